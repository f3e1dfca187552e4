from django.core.management.base import BaseCommand, CommandError

from consent import audit, chain


class Command(BaseCommand):
    help = (
        "Verify the audit chain stored in the database: every body must match its "
        "leaf hash, every link its predecessor, sequence numbers must run 1..N "
        "without gaps, and each --checkpoint SEQ:HASH (a head saved earlier) must "
        "still be in the chain. Exits 0 when intact, 1 at the first bad event."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help="a head saved earlier that the chain must still contain (repeatable)",
        )

    def handle(self, *args, **options):
        try:
            checkpoints = [chain.parse_checkpoint(text) for text in options["checkpoint"]]
        except ValueError as error:
            raise CommandError(str(error), returncode=2) from None
        result = audit.verify_database(checkpoints)
        if result.ok:
            self.stdout.write(
                f"OK: {result.count} events, head seq {result.head_seq} entry_hash {result.head_hash}"
            )
            return
        self.stderr.write(f"FAILED at seq {result.first_bad_seq}: {result.reason}")
        raise SystemExit(1)
