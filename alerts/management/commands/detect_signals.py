import json
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import DatabaseError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from alerts.cycle import detection_cycle_run
from alerts.outbox.models import Alert
from alerts.signals.evidence import evidence_sentence
from core.commands import ProductCommand
from prospects.models import Prospect


class Command(ProductCommand):
    help = gettext_noop("Run one detection cycle now: match visitors, find signals, record alerts and queue their SMS.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help=_("report what would happen; write and send nothing")
        )
        parser.add_argument("--json", action="store_true", help=_("print one JSON object"))

    def handle(self, *args: Any, dry_run: bool, json: bool, **options: Any) -> None:
        try:
            report = detection_cycle_run(dry_run=dry_run, trigger="command")
        except DatabaseError as exc:
            raise CommandError(_("Detection could not run: the database said %(error)s") % {"error": exc}) from exc
        if json:
            self.stdout.write(_json_dumps(report.as_dict()))
            return
        prefix = _("[dry run] ") if dry_run else ""
        self.stdout.write(
            prefix
            + _(
                "New events read: %(events)d; visitors matched: %(visitors)d; signals found: %(signals)d; "
                "alerts recorded: %(alerts)d."
            )
            % {
                "events": report.events_scanned,
                "visitors": report.visitors_matched,
                "signals": len(report.signals),
                "alerts": len(report.alerts),
            }
        )
        evidence = {(s["prospect_id"], s["signal"]): s["evidence"] for s in report.signals}
        names = {p.pk: str(p) for p in Prospect.objects.filter(pk__in={a["prospect_id"] for a in report.alerts})}
        for alert in report.alerts:
            what = evidence_sentence(alert["signal"], evidence.get((alert["prospect_id"], alert["signal"]), {}))
            status = Alert.Status(alert["status"]).label if alert["status"] in Alert.Status.values else alert["status"]
            who = names.get(alert["prospect_id"], f"#{alert['prospect_id']}")
            self.stdout.write(f"  {who}: {what} [{status}]")
            if alert["message"]:
                self.stdout.write("    " + _("SMS: %(text)s") % {"text": alert["message"]})


def _json_dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)
