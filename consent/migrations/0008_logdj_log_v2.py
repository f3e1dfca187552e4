"""The log, version 2 (docs/log-v2.md): Merkle nodes, private openings, signed
checkpoints and cosignatures; explanation version 1 as the chain's first event;
and append-only triggers on the new tables and on the texts (explanations,
notices and the offices a notice addresses), which are records too.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone

from consent import audit, explanation_text

APPEND_ONLY = [
    "consent_lognode",
    "consent_eventopening",
    "consent_signedcheckpoint",
    "consent_witnesskey",
    "consent_cosignature",
    "consent_explanationversion",
    "consent_notice",
    "consent_notice_offices",
]


def publish_explanation_v1(apps, schema_editor):
    fields = explanation_text.shipped_version(1)
    content_hash = explanation_text.content_hash(1, fields)
    event = audit.append(
        "explanation.published",
        actor=audit.SYSTEM,
        payload={"version": 1, "content_hash": content_hash},
        apps=apps,
    )
    apps.get_model("consent", "ExplanationVersion").objects.create(
        number=1, content_hash=content_hash, published_at=timezone.now(), audit_seq=event.seq, **fields
    )


def append_only(apps, schema_editor):
    # The same triggers as migration 0002, whose PostgreSQL function they reuse.
    vendor = schema_editor.connection.vendor
    # SQLite rebuilt the events table to widen its subject column, dropping its triggers.
    for table in APPEND_ONLY + (["consent_auditevent"] if vendor == "sqlite" else []):
        if vendor == "postgresql":
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION consent_refuse_change();"
            )
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION consent_refuse_change();"
            )
        elif vendor == "sqlite":
            for operation in ("UPDATE", "DELETE"):
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END;"
                )
        else:
            raise RuntimeError(f"no append-only triggers written for {vendor}")


def drop_append_only(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in APPEND_ONLY:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};")
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update;")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete;")


class Migration(migrations.Migration):

    dependencies = [
        ('consent', '0007_insiders_provisioned_at'),
    ]

    operations = [
        migrations.CreateModel(
            name='LogVerification',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('size', models.PositiveBigIntegerField()),
                ('entry_hash', models.CharField(max_length=64)),
                ('root', models.CharField(max_length=64)),
                ('verified_at', models.DateTimeField()),
            ],
            options={
                'get_latest_by': 'size',
            },
        ),
        migrations.CreateModel(
            name='SignedCheckpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('size', models.PositiveBigIntegerField(unique=True)),
                ('root', models.CharField(max_length=64)),
                ('note', models.TextField()),
                ('created_at', models.DateTimeField()),
            ],
            options={
                'ordering': ['size'],
                'get_latest_by': 'size',
            },
        ),
        migrations.CreateModel(
            name='WitnessKey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=200, unique=True)),
                ('vkey', models.TextField(unique=True)),
                ('registered_at', models.DateTimeField()),
                ('audit_seq', models.PositiveBigIntegerField(unique=True)),
            ],
        ),
        migrations.AddField(
            model_name='audithead',
            name='frontier',
            field=models.JSONField(default=list),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='subject',
            field=models.CharField(blank=True, db_index=True, default='', max_length=70),
        ),
        migrations.CreateModel(
            name='EventOpening',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('seq', models.PositiveBigIntegerField(unique=True)),
                ('salt', models.CharField(max_length=32)),
                ('secret', models.TextField()),
                ('created_at', models.DateTimeField()),
                ('employee', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='openings', to='consent.employee')),
            ],
            options={
                'ordering': ['seq'],
            },
        ),
        migrations.CreateModel(
            name='LogNode',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('level', models.PositiveSmallIntegerField()),
                ('index', models.PositiveBigIntegerField()),
                ('hash', models.CharField(max_length=64)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('level', 'index'), name='unique_log_node')],
            },
        ),
        migrations.CreateModel(
            name='Cosignature',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('line', models.TextField()),
                ('created_at', models.DateTimeField()),
                ('audit_seq', models.PositiveBigIntegerField(unique=True)),
                ('checkpoint', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='cosignatures', to='consent.signedcheckpoint')),
                ('witness', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='cosignatures', to='consent.witnesskey')),
            ],
            options={
                'ordering': ['checkpoint__size', 'pk'],
                'constraints': [models.UniqueConstraint(fields=('checkpoint', 'witness'), name='one_cosignature_per_witness')],
            },
        ),
        # Irreversible on purpose: the first event of the chain cannot be unmade.
        migrations.RunPython(publish_explanation_v1),
        migrations.RunPython(append_only, drop_append_only),
    ]
