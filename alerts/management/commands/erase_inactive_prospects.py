import json
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db import DatabaseError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from alerts.outcomes.inactive import InactiveProspect, inactive_prospects, inactive_prospects_erase
from core.commands import ProductCommand
from core.display import moment_display


def _line(item: InactiveProspect) -> str:
    p = item.prospect
    who = f"{p.name} <{p.email}>" if p.name else p.email
    if item.last_contact_at:
        since = _("last contact from them %(when)s") % {"when": moment_display(item.last_contact_at, empty="-")}
    else:
        since = _("never heard from them, added %(when)s") % {"when": moment_display(p.created_at, empty="-")}
    days = ngettext("%(count)d day of silence", "%(count)d days of silence", item.silent_days) % {
        "count": item.silent_days
    }
    who += f" ({p.company})" if p.company else ""
    return "- " + _("%(who)s: %(since)s; %(days)s") % {"who": who, "since": since, "days": days}


def _as_json(item: InactiveProspect) -> dict[str, Any]:
    return {
        "email": item.prospect.email,
        "name": item.prospect.name,
        "company": item.prospect.company,
        "created_at": item.prospect.created_at.isoformat(),
        "last_contact_at": item.last_contact_at.isoformat() if item.last_contact_at else None,
        "silent_days": item.silent_days,
        "alerts": item.alerts,
        "calls": item.calls,
        "meetings": item.meetings,
    }


class Command(ProductCommand):
    help = gettext_noop(
        "Erase the prospects with no contact from them (a click, a reply, a booking, an answered call; opens "
        "do not count) for PROSPECT_INACTIVE_ERASE_DAYS, as forget_prospect does; --dry-run lists who would go."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help=_("list who would be erased, erase nothing"))
        parser.add_argument("--json", action="store_true", help=_("print one JSON object"))

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        days = settings.PROSPECT_INACTIVE_ERASE_DAYS
        if days <= 0:
            self._say(
                options,
                {"days": 0, "dry_run": dry_run, "prospects": []},
                _("PROSPECT_INACTIVE_ERASE_DAYS is 0: no prospect is erased for inactivity."),
            )
            return
        try:
            gone = inactive_prospects()
            report = None if dry_run else inactive_prospects_erase(gone=gone)
        except DatabaseError as exc:
            raise CommandError(_("Cannot read the prospects: the database said %(error)s") % {"error": exc}) from exc
        payload: dict[str, Any] = {"days": days, "dry_run": dry_run, "prospects": [_as_json(i) for i in gone]}
        if report is not None:
            payload["erased"] = report.as_dict()
        if dry_run:
            head = ngettext(
                "%(count)d prospect would be erased (no contact from them for %(days)d days; dry run):",
                "%(count)d prospects would be erased (no contact from them for %(days)d days; dry run):",
                len(gone),
            )
        else:
            head = ngettext(
                "%(count)d prospect erased (no contact from them for %(days)d days), with its alerts and calls:",
                "%(count)d prospects erased (no contact from them for %(days)d days), with their alerts and calls:",
                len(gone),
            )
        lines = [head % {"count": len(gone), "days": days}, *(_line(item) for item in gone)]
        self._say(options, payload, "\n".join(lines))

    def _say(self, options: dict[str, Any], payload: dict[str, Any], text: str) -> None:
        self.stdout.write(json.dumps(payload, ensure_ascii=False) if options["json"] else text)
