from django.core.management.base import BaseCommand, CommandError

from consent import audit, chain, verification


class Command(BaseCommand):
    help = (
        "Verify everything the server holds about the log, from where the last verification "
        "ended (the union's audit page does the same), or with --full from the first event: bodies against "
        "leaf hashes and links, sequence numbers 1..N without gaps, the indexed kind, subject and "
        "time against the bodies, the stored Merkle nodes against the leaves, every signed "
        "checkpoint (signature and root) and cosignature, every receipt's seq and entry hash, "
        "every opening against its commitment, the explanation and notice texts against their "
        "content hashes, and a head no lower than the latest signed checkpoint. Each --checkpoint "
        "SEQ:HASH (a head saved earlier) must still be in the chain. Exits 0 when intact, 1 at "
        "the first problem."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help="a head saved earlier that the chain must still contain (repeatable)",
        )
        parser.add_argument(
            "--full",
            action="store_true",
            help="re-verify from the first event, not from the last verified one",
        )

    def handle(self, *args, **options):
        try:
            checkpoints = [chain.parse_checkpoint(text) for text in options["checkpoint"]]
        except ValueError as error:
            raise CommandError(str(error), returncode=2) from None
        if options["full"] or checkpoints:
            # The standalone verifier's pass too: links in stored order, and the saved heads.
            result = audit.verify_database(checkpoints)
            if not result.ok:
                self.stderr.write(f"FAILED at seq {result.first_bad_seq}: {result.reason}")
                raise SystemExit(1)
        outcome = verification.verify(full=options["full"])
        if not outcome.ok:
            self.stderr.write(str(outcome))
            raise SystemExit(1)
        self.stdout.write(str(outcome))
