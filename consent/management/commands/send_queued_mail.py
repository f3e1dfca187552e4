from django.core.management.base import BaseCommand

from consent import services


class Command(BaseCommand):
    help = (
        "Send the queued mail: the confirmation of each recorded decision (it never says the choice) "
        "and the invitations the roster import queued for new accounts (a link to set a password), "
        "over one mail connection, stamping each as it is sent. Run it from a timer every minute; "
        "runs at the same time skip each other's mails. A failed send stays pending for the next "
        "run; inactive staff are not invited until reactivated."
    )

    def handle(self, *args, **options):
        counts = services.send_queued_mail()
        for kind, label in [("confirmations", "decision confirmation(s)"), ("invitations", "invitation(s)")]:
            sent, failed = counts[kind]
            self.stdout.write(f"Sent {sent} {label}; {failed} failed and stay pending.")
