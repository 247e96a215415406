"""Do not contact: the one way a prospect's "stop" is honoured, and why a prospect may not be called.

An unsubscribe or a spam complaint reported by an email service (tracking/webhooks/services.py) makes
the prospect do-not-contact *and* refuses tracking, with its proof (prospects/consent.py), in one
transaction. A do-not-contact prospect texts nobody (alerts/outbox/admission.py mutes its alerts, the digest,
the hourly summary and the reminders leave it out) and the hot-leads page says why instead of "to call".
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from prospects.consent import prospect_consent_record
from prospects.models import ConsentChange, ConsentSource, ConsentState, Prospect
from prospects.services import prospects_set_status

# How the proof's `detail` ("sendgrid:group_unsubscribe") names each provider and what the person did.
PROVIDER_NAMES = {"sendgrid": "SendGrid", "mailgun": "Mailgun", "brevo": "Brevo", "postmark": "Postmark"}
COMPLAINTS = {"spamreport", "complained", "spam", "SpamComplaint", "SubscriptionChange:spam_complaint"}


def prospect_do_not_contact(
    *,
    prospect: Prospect,
    source: str,
    detail: str = "",
    note: str = "",
    network: str = "",
    by: Any = None,
    at: datetime | None = None,
) -> ConsentChange:
    """Mark the prospect do-not-contact and record tracking refused, with its proof, at once: from the
    next pixel fetch, link click or detection cycle, nothing identifies them and nothing texts."""
    with transaction.atomic():
        prospects_set_status(prospect_ids=[prospect.pk], status=Prospect.Status.DO_NOT_CONTACT)
        prospect.status = Prospect.Status.DO_NOT_CONTACT
        return prospect_consent_record(
            prospect=prospect,
            state=ConsentState.REFUSED,
            source=source,
            detail=detail,
            note=note,
            network=network,
            by=by,
            at=at,
        )


@dataclass(frozen=True)
class DoNotContactReason:
    what: str  # "désinscrit", "plainte pour spam", "statut mis à la main"
    provider: str = ""  # "SendGrid"
    at: datetime | None = None

    def __str__(self) -> str:
        when = timezone.localtime(self.at).strftime("%d/%m %H:%M") if self.at else ""
        context = ", ".join(part for part in (self.provider, when) if part)
        sentence = f"{self.what} ({context})" if context else self.what
        return _("Do not contact: %(why)s") % {"why": sentence}


def _reason_of(change: ConsentChange) -> DoNotContactReason:
    """An email service's refusal as the founder reads it: "unsubscribed (SendGrid, 12/12 09:14)"."""
    provider, _sep, event = change.detail.partition(":")
    if change.source == ConsentSource.EMAIL_REPLY:  # "désinscrit par réponse (« STOP »)" — the words it said
        return DoNotContactReason(_("unsubscribed by reply"), event, change.changed_at)
    what = _("spam complaint") if event in COMPLAINTS else _("unsubscribed")
    return DoNotContactReason(what, PROVIDER_NAMES.get(provider, provider), change.changed_at)


def do_not_contact_reasons(prospects: list[Prospect]) -> dict[int, DoNotContactReason]:
    """Why each do-not-contact prospect among these is one: its latest refusal that came with the
    status (an email service's unsubscribe or complaint), else the status set by hand. One query."""
    stopped = [p.pk for p in prospects if p.status == Prospect.Status.DO_NOT_CONTACT]
    reasons = {pk: DoNotContactReason(_("status set by hand")) for pk in stopped}
    refusals = ConsentChange.objects.filter(
        prospect_id__in=stopped,
        state=ConsentState.REFUSED,
        source__in=(ConsentSource.EMAIL_PROVIDER, ConsentSource.EMAIL_REPLY),
    ).order_by("changed_at", "pk")
    for change in refusals:  # the newest is written last
        reasons[change.prospect_id] = _reason_of(change)
    return reasons
