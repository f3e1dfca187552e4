from django.conf import settings
from django.core.management.base import BaseCommand

from consent import chain


class Command(BaseCommand):
    help = (
        "Print a new Ed25519 signing key for the log's checkpoints, in the signed-note "
        "private-key form (PRIVATE+KEY+name+hash+key), named after LOG_ORIGIN. Keep it "
        "secret and pass it to the server as LOG_SIGNING_KEY; `make run` keeps one in "
        "var/log-signing.key. Changing the key later means the union must trust a new key."
    )

    def handle(self, *args, **options):
        private_key, _vkey = chain.generate_key(settings.LOG_ORIGIN)
        self.stdout.write(private_key)
