import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from alerts.selectors import monitoring_status


class Command(BaseCommand):
    help = "Print the live monitoring state: counts, last detection run, and every lead with a signal."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            status = monitoring_status()
        except DatabaseError as exc:
            raise CommandError(f"Cannot read the monitoring state: the database said {exc}") from exc
        if options["json"]:
            self.stdout.write(json.dumps(status, ensure_ascii=False, default=str))
            return
        late = " (LATE)" if status["detection_late"] else ""
        self.stdout.write(
            f"Monitoring since {status['monitoring_start'] or '-'}; {status['total_prospects_tracked']} prospects; "
            f"{status['hot_signals_detected']} signals; {status['alerts_sent']} SMS alerts sent, "
            f"{status['alerts_failed']} failed; last detection {status['last_detection_run'] or 'never'}{late}."
        )
        for lead in status["leads"]:
            ack = "called" if lead["acknowledged"] else "TO CALL"
            self.stdout.write(f"- [{ack}] {lead['prospect']} ({lead['company']}) {lead['phone'] or ''}")
            for signal in lead["signals"]:
                self.stdout.write(f"    {signal['at']} {signal['signal']} [{signal['alert_status']}]")
