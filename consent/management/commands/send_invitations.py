from django.core.management.base import BaseCommand

from consent import services


class Command(BaseCommand):
    help = (
        "Send the invitations the roster import queued for new accounts (a link to set a password), "
        "over one mail connection, stamping each as it is sent. Run it from a timer every few minutes; "
        "runs at the same time skip each other's invitations. A failed send stays pending for the next "
        "run; inactive staff are not invited until reactivated."
    )

    def handle(self, *args, **options):
        sent, failed = services.send_pending_invitations()
        self.stdout.write(f"Sent {sent} invitation(s); {failed} failed and stay pending.")
