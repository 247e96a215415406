import json
from datetime import datetime
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import DatabaseError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from alerts.outbox.models import Alert
from alerts.selectors import monitoring_status
from alerts.signals.evidence import evidence_sentence
from alerts.signals.models import Signal
from core.commands import ProductCommand
from core.display import moment_display, phone_display


def _moment(iso: str | None, *, empty: str) -> str:
    """The status keeps ISO UTC times (the --json contract); people read them in TIME_ZONE."""
    return moment_display(datetime.fromisoformat(iso) if iso else None, empty=empty)


def _status_label(value: str) -> str:
    return str(Alert.Status(value).label) if value in Alert.Status.values else value


class Command(ProductCommand):
    help = gettext_noop("Print the live monitoring state: counts, last detection run, and every lead with a signal.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help=_("print one JSON object (ISO 8601 UTC times)"))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            status = monitoring_status()
        except DatabaseError as exc:
            raise CommandError(
                _("Cannot read the monitoring state: the database said %(error)s") % {"error": exc}
            ) from exc
        if options["json"]:
            self.stdout.write(json.dumps(status, ensure_ascii=False, default=str))
            return
        self.stdout.write(
            _(
                "Monitoring since %(start)s. Prospects tracked: %(prospects)d; signals: %(signals)d; "
                "SMS alerts sent: %(sent)d; failed: %(failed)d."
            )
            % {
                "start": _moment(status["monitoring_start"], empty="-"),
                "prospects": status["total_prospects_tracked"],
                "signals": status["hot_signals_detected"],
                "sent": status["alerts_sent"],
                "failed": status["alerts_failed"],
            }
        )
        last = _moment(status["last_detection_run"], empty=_("never"))
        if status["detection_late"]:
            self.stdout.write(_("Last detection: %(when)s (LATE).") % {"when": last})
        else:
            self.stdout.write(_("Last detection: %(when)s.") % {"when": last})
        self._ledger(status["ledger"])
        for lead in status["leads"]:
            state = _("called") if lead["acknowledged"] else _("TO CALL")
            phone = phone_display(lead["phone"] or "")
            who = f"{lead['prospect']} ({lead['company']})" if lead["company"] else lead["prospect"]
            self.stdout.write(f"- [{state}] {who}" + (f" {phone}" if phone else ""))
            for signal in lead["signals"]:
                self.stdout.write(
                    f"    {_moment(signal['at'], empty='-')}  {evidence_sentence(signal['signal'], signal['evidence'])}"
                    f" [{_status_label(signal['alert_status'])}]"
                )

    def _ledger(self, ledger: dict[str, Any]) -> None:
        """One line per signal type: k / n, and "not enough data" below LEDGER_MIN_N."""

        def rate(value: dict[str, Any]) -> str:
            text = f"{value['k']}/{value['n']}"
            if not value["enough_data"]:
                return f"{text} ({_('not enough data')})"
            return f"{text} ({value['low']:.0%}-{value['high']:.0%})"

        self.stdout.write(_("Ledger, from signal to meeting:"))
        for row in ledger["by_signal"]:
            self.stdout.write(
                "  "
                + _("%(signal)s: SMS %(sms)s, called %(called)s, reached %(reached)s, meetings %(meetings)s")
                % {
                    "signal": _signal_label(row["key"]),
                    "sms": rate(row["sms_sent"]),
                    "called": rate(row["called"]),
                    "reached": rate(row["reached"]),
                    "meetings": rate(row["meetings_booked"]),
                }
            )
        goal = ledger["goal"]
        if goal:
            self.stdout.write(
                _("Campaign goal: %(done)d of %(count)d.") % {"done": goal["done"], "count": goal["count"]}
            )


def _signal_label(value: str) -> str:
    return str(Signal(value).label) if value in Signal.values else value
