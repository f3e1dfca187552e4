from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from consent import services
from consent.roster import parse_roster


class Command(BaseCommand):
    help = (
        "Import the whole staff roster from a CSV file (UTF-8, with or without BOM, or "
        "CP932/Shift_JIS), with the same rules as HR's upload page: every problem is listed "
        "by line and column and one bad line refuses the whole file; employees missing from "
        "the file are deactivated, never deleted; a file holding a My Number is refused. "
        "Re-importing the same file changes nothing. It never records a decision. "
        "Exit codes: 0 imported (or nothing to change), 1 refused, 2 bad arguments."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--encoding", choices=["utf-8", "cp932", "shift_jis"], help="default: detect")
        parser.add_argument(
            "--dry-run", action="store_true", help="show what would change and change nothing"
        )
        parser.add_argument(
            "--as",
            dest="actor_email",
            required=True,
            help="email of the HR account the import is recorded under on the audit chain",
        )
        parser.add_argument(
            "--no-invite", action="store_true", help="do not email invitations to new accounts"
        )

    def handle(self, *args, **options):
        user = (
            get_user_model()
            .objects.filter(email__iexact=options["actor_email"], role_grants__role="hr")
            .first()
        )
        if user is None:
            raise CommandError(f"{options['actor_email']} is not an HR account", returncode=2)
        try:
            with open(options["file"], "rb") as handle:
                data = handle.read()
        except OSError as error:
            raise CommandError(str(error), returncode=2) from None
        parsed = parse_roster(data, options["encoding"])
        plan = services.plan_roster(parsed, user=user)
        if plan.errors:
            for error in plan.errors:
                where = ", ".join(p for p in (error.line and f"line {error.line}", error.column) if p)
                self.stderr.write(f"{where or 'file'}: {error.message}")
            self.stderr.write(f"Refused: {len(plan.errors)} problem(s); nothing was changed.")
            raise SystemExit(1)
        summary = (
            f"{len(plan.create)} to create, {len(plan.update)} to update, "
            f"{len(plan.deactivate)} to deactivate, "
            f"{plan.unchanged} unchanged, {len(plan.offices_create)} new offices, "
            f"{len(plan.offices_update)} changed offices"
        )
        if options["dry_run"]:
            self.stdout.write(f"Dry run ({parsed.encoding}): {summary}. Nothing was changed.")
            return
        services.import_roster(user=user, parsed=parsed, invite=not options["no_invite"])
        self.stdout.write(f"Imported ({parsed.encoding}): {summary}.")
