import json
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.commands import ProductCommand
from prospects.consent import consent_policy, consent_proof_rows
from prospects.models import ConsentSource, ConsentState, Prospect


class Command(ProductCommand):
    help = gettext_noop(
        "Print a prospect's tracking consent and every recorded change of it (when, what, how, network, "
        "notice version, by whom): the proof to hand to the CNIL."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help=_("the prospect's email address"))
        parser.add_argument("--json", action="store_true", help=_("print one JSON object"))

    def handle(self, *args: Any, email: str, json: bool, **options: Any) -> None:
        prospect = Prospect.objects.filter(email=email.strip().lower()).first()
        if prospect is None:
            raise CommandError(_("No prospect has the email “%(email)s”.") % {"email": email})
        changes = list(consent_proof_rows([prospect]))
        if json:
            self.stdout.write(_dumps(_as_json(prospect, changes)))
            return
        self.stdout.write(
            _("%(name)s <%(email)s>, %(company)s: tracking consent %(state)s.")
            % {
                "name": prospect.name or "—",
                "email": prospect.email,
                "company": prospect.company or "—",
                "state": str(ConsentState(prospect.tracking_consent).label).lower(),
            }
        )
        self.stdout.write(consent_policy().describe())
        if not changes:
            self.stdout.write(_("No change recorded: the prospect was never asked."))
            return
        for change in changes:
            self.stdout.write(_line(change))


def _line(change: dict[str, str]) -> str:
    at = parse_datetime(change["changed_at"])
    when = date_format(timezone.localtime(at), "DATETIME_FORMAT") if at else change["changed_at"]
    parts = [
        f"{when} — {ConsentState(change['state']).label}",
        str(ConsentSource(change["source"]).label),
    ]
    if change["detail"]:
        parts.append(change["detail"])
    if change["network"]:
        parts.append(_("network %(network)s") % {"network": change["network"]})
    if change["notice_version"]:
        parts.append(_("notice of %(version)s") % {"version": change["notice_version"]})
    if change["by"]:
        parts.append(_("by %(user)s") % {"user": change["by"]})
    if change["note"]:
        parts.append(f"« {change['note']} »")
    return " · ".join(parts)


def _as_json(prospect: Prospect, changes: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "email": prospect.email,
        "name": prospect.name,
        "company": prospect.company,
        "tracking_consent": prospect.tracking_consent,
        "policy": list(consent_policy().required_for),
        "changes": [{key: value for key, value in change.items() if key != "email"} for change in changes],
    }


def _dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
