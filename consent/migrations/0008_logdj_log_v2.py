"""The log, version 2 (docs/log-v2.md): Merkle nodes, private openings, signed
checkpoints and cosignatures; explanation version 1 as the chain's first event;
and append-only triggers on the new tables and on the texts (explanations,
notices and the offices a notice addresses), which are records too.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone

from consent import append_only, audit, explanation_text

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


def add_triggers(apps, schema_editor):
    # SQLite rebuilt the events table to widen its subject column, dropping its triggers.
    rebuilt = ["consent_auditevent"] if schema_editor.connection.vendor == "sqlite" else []
    append_only.create(schema_editor, APPEND_ONLY + rebuilt)


def drop_triggers(apps, schema_editor):
    append_only.drop(schema_editor, APPEND_ONLY)


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
        migrations.RunPython(add_triggers, drop_triggers),
    ]
