from django.core.management.base import BaseCommand

from consent import audit


class Command(BaseCommand):
    help = (
        "Write the whole audit chain as JSON Lines, one event per line with its "
        "body and hashes, in stored order. Check the file anywhere with "
        "`python -m consent.chain FILE` (standard library only)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="file to write (default: standard output)")

    def handle(self, *args, **options):
        if not options["output"]:
            for line in audit.export_lines():
                self.stdout.write(line)
            return
        count = 0
        with open(options["output"], "w", encoding="utf-8") as out:
            for line in audit.export_lines():
                out.write(line + "\n")
                count += 1
        self.stdout.write(f"Wrote {count} events to {options['output']}")
