"""LogVerification keeps the signed checkpoints and cosignatures counted at its point, so the
union's audit page counts only those that came after (its totals were a count of every row)."""

from bisect import bisect_left, bisect_right

from django.db import migrations, models


def count_at_each_point(apps, schema_editor):
    sizes = sorted(apps.get_model("consent", "SignedCheckpoint").objects.values_list("size", flat=True))
    cosigned = sorted(apps.get_model("consent", "Cosignature").objects.values_list("audit_seq", flat=True))
    LogVerification = apps.get_model("consent", "LogVerification")
    points = list(LogVerification.objects.all())
    for point in points:
        point.checkpoints_below = bisect_left(sizes, point.size)
        point.cosignatures = bisect_right(cosigned, point.size)
    LogVerification.objects.bulk_update(points, ["checkpoints_below", "cosignatures"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0010_invite_pending"),
    ]

    operations = [
        migrations.AddField(
            model_name="logverification",
            name="checkpoints_below",
            field=models.PositiveBigIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="logverification",
            name="cosignatures",
            field=models.PositiveBigIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.RunPython(count_at_each_point, migrations.RunPython.noop),
    ]
