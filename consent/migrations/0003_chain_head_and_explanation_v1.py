"""Start the chain and publish explanation version 1 as its first event."""

from django.db import migrations
from django.utils import timezone

from consent import audit, chain, explanation_text


def forwards(apps, schema_editor):
    AuditHead = apps.get_model("consent", "AuditHead")
    AuditEvent = apps.get_model("consent", "AuditEvent")
    ExplanationVersion = apps.get_model("consent", "ExplanationVersion")
    AuditHead.objects.create(pk=1, seq=0, entry_hash=chain.GENESIS.hex())
    fields = explanation_text.shipped_version(1)
    content_hash = explanation_text.content_hash(1, fields)
    event = audit.append(
        "explanation.published",
        actor=audit.SYSTEM,
        payload={"version": 1, "content_hash": content_hash},
        event_model=AuditEvent,
        head_model=AuditHead,
    )
    ExplanationVersion.objects.create(
        number=1, content_hash=content_hash, published_at=timezone.now(), audit_seq=event.seq, **fields
    )


class Migration(migrations.Migration):
    dependencies = [("consent", "0002_append_only_triggers")]
    # Irreversible on purpose: the first event of the chain cannot be unmade.
    operations = [migrations.RunPython(forwards)]
