from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prospects.services import ImportFileError, prospects_import


class Command(BaseCommand):
    help = "Import prospects from a JSON or CSV file (upsert by email). Bad rows are reported and skipped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="file.json or file.csv")
        parser.add_argument("--dry-run", action="store_true", help="check and report, save nothing")

    def handle(self, *args: Any, path: str, dry_run: bool, **options: Any) -> None:
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            report = prospects_import(content=file.read_bytes(), filename=file.name, dry_run=dry_run)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        for error in report.errors:
            self.stderr.write(f"{file.name}:{error.line}: {error.message}")
        self.stdout.write(self.style.SUCCESS(report.summary()))
