from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tracking.retention import purge_events


class Command(BaseCommand):
    help = "Delete tracking events older than N days (retention / GDPR)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS")
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")

    def handle(self, *args: Any, older_than: int, dry_run: bool, **options: Any) -> None:
        if older_than < 1:
            raise CommandError("--older-than must be at least 1 day.")
        counts = purge_events(older_than_days=older_than, dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(f"{verb}: " + ", ".join(f"{n} {name}" for name, n in counts.items()))
