from django.core.management.base import BaseCommand, CommandError

from consent import log


class Command(BaseCommand):
    help = (
        "Sign the log's current tree head as a checkpoint (a C2SP signed note) and keep it, "
        "so employees' proofs and the union's cosignatures have a recent head to refer to. "
        "Run it from a timer, every minute (a systemd timer or cron); when nothing was "
        "appended since the last checkpoint it signs nothing. Refuses, with exit code 1, a "
        "log that is smaller than the latest signed checkpoint or not consistent with it or "
        "with the latest cosigned one: that log was rewritten."
    )

    def handle(self, *args, **options):
        try:
            checkpoint = log.publish_checkpoint()
        except log.LogRefused as refusal:
            raise CommandError(str(refusal)) from None
        self.stdout.write(f"checkpoint {checkpoint.size} {checkpoint.root}")
