"""Make the audit chain, decisions and acknowledgements append-only in the database
(the triggers are written in ``consent.append_only``)."""

from django.db import migrations

from consent import append_only

TABLES = ["consent_auditevent", "consent_decision", "consent_acknowledgement"]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(append_only.POSTGRES_FUNCTION, params=None)
    append_only.create(schema_editor, TABLES)


def backwards(apps, schema_editor):
    append_only.drop(schema_editor, TABLES)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS consent_refuse_change();")


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
