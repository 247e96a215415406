import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from alerts.detection import run_detection_cycle


class Command(BaseCommand):
    help = "Run one detection cycle now: match visitors, find signals, record alerts and queue their SMS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="report what would happen; write and send nothing")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, dry_run: bool, json: bool, **options: Any) -> None:
        try:
            report = run_detection_cycle(dry_run=dry_run, trigger="command")
        except DatabaseError as exc:
            raise CommandError(f"Detection could not run: the database said {exc}") from exc
        if json:
            self.stdout.write(_json_dumps(report.as_dict()))
            return
        prefix = "[dry run] " if dry_run else ""
        self.stdout.write(
            f"{prefix}Scanned {report.events_scanned} new events, matched {report.visitors_matched} visitors, "
            f"found {len(report.signals)} signals, recorded {len(report.alerts)} alerts."
        )
        for alert in report.alerts:
            self.stdout.write(
                f"  {alert['signal']} prospect #{alert['prospect_id']}: {alert['status']}"
                + (f" — {alert['message']}" if alert["message"] else "")
            )


def _json_dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)
