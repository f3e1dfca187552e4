"""Start the chain (its head row).

Explanation version 1 is published as the first event by the log's version-2
migration, once the Merkle tree's tables exist for the append to fill.
"""

from django.db import migrations

from consent import chain


def forwards(apps, schema_editor):
    AuditHead = apps.get_model("consent", "AuditHead")
    AuditHead.objects.create(pk=1, seq=0, entry_hash=chain.GENESIS.hex())


class Migration(migrations.Migration):
    dependencies = [("consent", "0002_append_only_triggers")]
    # Irreversible on purpose: the first event of the chain cannot be unmade.
    operations = [migrations.RunPython(forwards)]
