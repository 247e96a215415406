"""A prospect's history: the timeline page (every visit, click, email event, alert and call, newest
first) and the recent activity and next email's links shown on the prospect's admin page. Bounded by
the (prospect, received_at) indexes."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext, pgettext_lazy

from alerts.outbox.models import Alert
from alerts.outcomes.callbacks import open_callbacks
from alerts.outcomes.models import Call
from alerts.signals.evidence import evidence_sentence, page_display
from alerts.signals.models import Signal
from backoffice.hot_leads import call_openers
from backoffice.timeline_reasons import (
    alerts_by_key,
    click_reason,
    email_reason,
    events_given_to_others,
    given_to,
    page_view_rows,
    visit_reasons,
)
from core.display import moment_display
from prospects.do_not_contact import PROVIDER_NAMES
from prospects.models import Prospect
from tracking.models import CtaClick, EmailEvent, Identification, InboundReply, Meeting, VisitEvent, Visitor
from tracking.tokens import email_links_for

TIMELINE_KINDS = {
    "visit": pgettext_lazy("timeline entry", "Visit"),
    "cta": pgettext_lazy("timeline entry", "Click"),
    "email": pgettext_lazy("timeline entry", "Email"),
    "alert": pgettext_lazy("timeline entry", "Alert"),
    "call": pgettext_lazy("timeline entry", "Call"),
    "token": pgettext_lazy("timeline entry", "Personal link"),
    "consent": pgettext_lazy("timeline entry", "Consent"),
    "reply": pgettext_lazy("timeline entry", "Reply"),
}


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # visit | cta | email | alert | call | token | consent
    title: str
    detail: str = ""
    machine: bool = False
    technical: str = ""  # raw ids (a message id): folded away on the page

    @property
    def kind_label(self) -> str:
        return str(TIMELINE_KINDS.get(self.kind, self.kind))


def prospect_timeline(prospect: Prospect, *, limit: int = 200) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    # Each event that texted nobody says why (backoffice/timeline_reasons.py).
    alerts = alerts_by_key(prospect)
    page_views = page_view_rows(prospect, limit=limit)
    reasons = visit_reasons(prospect, page_views, alerts)
    for view in page_views:
        seconds = int((view["last"] - view["first"]).total_seconds())
        events = ngettext("%(count)d event", "%(count)d events", view["events"]) % {"count": view["events"]}
        entries.append(
            TimelineEntry(
                view["first"],
                "visit",
                _("%(seconds)d s on %(page)s") % {"seconds": seconds, "page": page_display(view["page"])},
                _joined(events, reasons[view["page_view_id"]]),
                machine=bool(view["bot"]),
            )
        )
    own_clicks = Q(prospect=prospect) | Q(prospect__isnull=True, ak=prospect.identity_token)
    for click in CtaClick.objects.filter(own_clicks).order_by("-received_at")[:limit]:
        title = evidence_sentence(Signal.CTA_CLICK, {"cta_id": click.cta_id})
        detail = _joined(page_display(click.page), click_reason(prospect, click, alerts))
        entries.append(TimelineEntry(click.received_at, "cta", title, detail, machine=click.is_bot))
    for event in EmailEvent.objects.filter(prospect=prospect).order_by("-occurred_at")[:limit]:
        detail = email_reason(prospect, event, alerts)
        if event.event in EmailEvent.OPT_OUTS:  # which service said it (the message id is in the details)
            provider = (event.provider_event_id or "").partition(":")[0]
            detail = PROVIDER_NAMES.get(provider, provider)
        entries.append(
            TimelineEntry(
                event.occurred_at,
                "email",
                event.get_event_display(),
                detail,
                bool(event.machine_reason),
                technical=event.message_id,
            )
        )
    for other in events_given_to_others(prospect, limit=limit):
        if other.kind == "cta":
            title = evidence_sentence(Signal.CTA_CLICK, {"cta_id": other.cta_id})
        else:
            title = _("Visit of %(page)s") % {"page": page_display(other.page)}
        entries.append(TimelineEntry(other.at, other.kind, title, given_to(other.owner)))
    for alert in Alert.objects.filter(prospect=prospect).order_by("-occurred_at")[:limit]:
        entries.append(TimelineEntry(alert.occurred_at, "alert", alert.evidence_sentence, alert.get_status_display()))
    for call in (
        Call.objects.filter(prospect=prospect).select_related("called_by", "meeting").order_by("-called_at")[:limit]
    ):
        who = call.called_by.get_username() if call.called_by else ""
        if call.via == Call.Via.SMS_REPLY:
            who = pgettext("call recorded", "by SMS")
        title = call.get_outcome_display()
        if call.meeting is not None:
            title += " · " + _("meeting %(when)s") % {"when": moment_display(call.meeting.starts_at)}
        if call.callback_at:
            title += " · " + _("call back %(when)s") % {"when": moment_display(call.callback_at)}
        entries.append(TimelineEntry(call.called_at, "call", title, f"{who} · {call.note}".strip(" ·")))
    entries += _reply_entries(prospect, limit)
    entries += _retired_token_entries(prospect)
    entries += _consent_entries(prospect)
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def _joined(*parts: str) -> str:
    return " · ".join(part for part in parts if part)


def _reply_entries(prospect: Prospect, limit: int) -> list[TimelineEntry]:
    """Each reply read, with the words that sorted it ("Auto-Submitted: auto-replied", "« pas
    intéressé »"), so the founder sees why it texted or did not, and corrects a wrong sort by hand."""
    entries = []
    for reply in InboundReply.objects.filter(prospect=prospect).order_by("-received_at")[:limit]:
        title = f"{reply.get_kind_display()} — {reply.reason}" if reply.reason else reply.get_kind_display()
        # A person's reply is titled with its first words already: its subject says which email it answers.
        parts = [reply.subject if reply.kind == "person" else reply.excerpt or reply.subject]
        if reply.back_on:
            parts.append(_("back on %(date)s") % {"date": formats.date_format(reply.back_on, "j F Y")})
        if reply.undeliverable:
            parts.append(_("address undeliverable"))
        if reply.identification == Identification.UNVERIFIED:
            parts.append(_("unverified sender"))
        if reply.corrected:
            parts.append(_("sorted by hand (first sorted as %(kind)s)") % {"kind": reply.get_sorted_kind_display()})
        detail = " · ".join(p for p in parts if p)
        entries.append(TimelineEntry(reply.received_at, "reply", title, detail, reply.kind in MACHINE_REPLIES))
    return entries


# Replies no person wrote: shown like a machine's visit on the timeline.
MACHINE_REPLIES = ("auto", "bounce")


def prospect_call_sheet(prospect: Prospect, *, alert_id: int | None = None) -> dict[str, Any]:
    """What the page an SMS opens leads with, on a phone: why (the alert the SMS was about, else the
    newest), what to say first, the call-back still to make and the meetings to mark."""
    alerts = Alert.objects.filter(prospect=prospect).order_by("-occurred_at")
    why = (alerts.filter(pk=alert_id).first() if alert_id else None) or alerts.first()
    opener = call_openers().get(why.signal, "") if why else ""
    meetings = list(Meeting.objects.filter(prospect=prospect).exclude(status=Meeting.Status.RESCHEDULED)[:10])
    return {
        "why": why,
        "opener": opener,
        "callback": open_callbacks().filter(prospect=prospect).first(),
        "meetings": meetings,
        "now": timezone.now(),
    }


def _retired_token_entries(prospect: Prospect) -> list[TimelineEntry]:
    """When the `ak` was replaced, and how many page views came with the old one since: they match
    nobody now, and the founder should know the old link still circulates."""
    entries = []
    for retired in prospect.retired_tokens.select_related("retired_by"):
        views = (
            VisitEvent.objects.filter(ak=retired.token, received_at__gte=retired.retired_at)
            .values("page_view_id")
            .distinct()
            .count()
        )
        detail = ngettext(
            "%(count)d page view with the old link since, left unmatched",
            "%(count)d page views with the old link since, left unmatched",
            views,
        ) % {"count": views}
        who = retired.retired_by.get_username() if retired.retired_by else ""
        title = _("Personal link token replaced: links sent before it now count as unmatched visits")
        entries.append(TimelineEntry(retired.retired_at, "token", title, f"{who} · {detail}".strip(" ·")))
    return entries


def _consent_entries(prospect: Prospect) -> list[TimelineEntry]:
    """Each recorded change of the tracking consent, with its proof (how, network, notice, by whom)."""
    entries = []
    for change in prospect.consent_changes.select_related("changed_by"):
        title = _("Tracking consent: %(state)s") % {"state": change.get_state_display()}
        proof = [f"{change.get_source_display()} {change.detail}".strip(), change.network]
        if change.notice_version:
            proof.append(_("notice of %(version)s") % {"version": change.notice_version})
        proof += [change.changed_by.get_username() if change.changed_by else "", change.note]
        entries.append(TimelineEntry(change.changed_at, "consent", title, " · ".join(part for part in proof if part)))
    return entries


def prospect_email_links(prospect: Prospect) -> dict[str, Any]:
    """The ak, open pixel and tracked link to put in the next email to this prospect."""
    message_id = f"next-{timezone.localdate():%Y%m%d}"
    links = email_links_for(prospect, message_id=message_id, url=settings.LANDING_PAGE_URL)
    rows = [
        (_("Personal link token (ak)"), links.ak, "ak"),
        (_("Open pixel"), links.pixel_url, "pixel"),
        (_("Tracked link"), links.link_url, "link"),
        (_("Consent link"), links.consent_url, "consent"),
        (_("Opt-out link"), links.optout_url, "optout"),
    ]
    return {"email_links": links, "email_links_message_id": message_id, "email_link_rows": rows}


def prospect_recent_activity(prospect: Prospect, *, limit: int = 20) -> dict[str, Any]:
    return {
        "recent_visits": VisitEvent.objects.filter(prospect=prospect).order_by("-received_at")[:limit],
        "recent_clicks": CtaClick.objects.filter(prospect=prospect).order_by("-received_at")[:limit],
        "recent_email_events": EmailEvent.objects.filter(prospect=prospect).order_by("-occurred_at")[:limit],
        "recent_alerts": Alert.objects.filter(prospect=prospect)
        .select_related("call")
        .order_by("-detected_at")[:limit],
        "linked_visitors": Visitor.objects.filter(prospect=prospect).order_by("-matched_at")[:limit],
    }
