from django.core.management.base import BaseCommand
from django.utils import timezone

from consent import figures
from consent.models import FigureSnapshot


class Command(BaseCommand):
    help = (
        "Publish HR's figures as a dated snapshot, if a release time (FIGURES_RELEASE_TIMES, local time, "
        "default 06:00 once a day) has passed since the last one; otherwise do nothing. Run it from a "
        "timer, as often as you like: HR cannot publish, and a release is never made out of schedule. "
        "A snapshot counts a person's change only together with at least k - 1 others who made exactly "
        "the same change (same office and answer before and after; leaving and joining the staff are "
        "changes too); until then the person is counted as last published. The table is then protected "
        "by small-cell suppression (k = SUPPRESSION_K). The rule is written out in consent/stats.py."
    )

    def handle(self, *args, **options):
        due = figures.release_due()
        last = FigureSnapshot.objects.order_by("-number").first()
        if last is not None and last.published_at >= due:
            upcoming = timezone.localtime(figures.next_release()).isoformat(timespec="minutes")
            self.stdout.write(f"Not due: snapshot #{last.number} is current; next release at {upcoming}.")
            return
        snapshot = figures.publish_snapshot()
        self.stdout.write(self.style.SUCCESS(f"Published snapshot #{snapshot.number}."))
