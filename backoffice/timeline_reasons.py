"""Why an event on a prospect's timeline did not text the founder (issue 30, point 4): each visit, click
and email event that led to no SMS says why — the alert it made and that alert's fate ("Pas de SMS :
délai de 24 h", held for review, quiet hours…), a machine ("machine : …"), a reading below the
threshold, a button that is not a signal, an open outside the re-open window — and the events of the
prospect's browser that carried another prospect's own link say to whom they went ("attribué à …").

Read-only; asked by backoffice/timeline.py for the (bounded) entries it shows."""

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Min, Q
from django.utils.translation import gettext as _

from alerts.outbox.models import Alert
from alerts.signals.dwell import not_a_reading
from prospects.models import Prospect
from tracking.machine_visits import machine_followups
from tracking.models import CtaClick, EmailEvent, VisitEvent, Visitor
from tracking.reach import FOLLOW_WINDOW

# An alert in these states texted (or is texting) the founder: the event needs no "why".
TEXTED = (Alert.Status.QUEUED, Alert.Status.SENT, Alert.Status.GROUPED)


def alerts_by_key(prospect: Prospect) -> dict[str, Alert]:
    return {alert.dedup_key: alert for alert in Alert.objects.filter(prospect=prospect)}


def _alert_reason(alert: Alert | None) -> str | None:
    """None without an alert; "" when it texted; else its fate ("Pas de SMS : délai de 24 h", …)."""
    if alert is None:
        return None
    return "" if alert.status in TEXTED else str(alert.get_status_display())


def _machine(why: str) -> str:
    return _("machine: %(why)s") % {"why": why or _("automated browser")}


def _agent(user_agent: str) -> str:
    """A user agent's product tokens, without the platform comments every browser sends alike:
    "AppleWebKit/537.36 HeadlessChrome/131.0 Safari/537.36" says what judged it a machine."""
    tokens = re.sub(r"\([^)]*\)", " ", user_agent).replace("Mozilla/5.0", " ").split()
    return " ".join(tokens)[:100]


def visit_reasons(prospect: Prospect, views: list[dict[str, Any]], alerts: dict[str, Alert]) -> dict[str, str]:
    """{page view id: why it texted nobody} for the timeline's page views (rows of prospect_timeline,
    with first, last, bot, engaged_ms, heartbeats, heartbeat_s, user_agent)."""
    threshold = settings.SIGNAL_DWELL_SECONDS
    long_views = {v["page_view_id"] for v in views if (v["last"] - v["first"]).total_seconds() >= threshold}
    machines = machine_followups(long_views)
    reasons = {}
    for view in views:
        pv, seconds = view["page_view_id"], (view["last"] - view["first"]).total_seconds()
        from_alert = _alert_reason(alerts.get(f"page_dwell:{prospect.pk}:{pv}"))
        if view["bot"]:
            reason = _machine(_agent(view["user_agent"]))
        elif from_alert is not None:
            reason = from_alert
        elif seconds < threshold:
            reason = _("%(seconds)d s of reading, under the %(threshold)d s threshold") % {
                "seconds": seconds,
                "threshold": threshold,
            }
        elif pv in machines:
            reason = _machine(_("follows a machine's click on the email link"))
        elif not_a_reading(
            span_seconds=seconds,
            engaged_ms=view["engaged_ms"],
            heartbeats=view["heartbeats"],
            heartbeat_s=view["heartbeat_s"],
        ):
            reason = _("not a reading: a tab in the background, or beats no tracker sends")
        else:
            reason = ""
        reasons[pv] = reason
    return reasons


def click_reason(prospect: Prospect, click: CtaClick, alerts: dict[str, Alert]) -> str:
    scope = click.page_view_id or f"click{click.pk}"
    from_alert = _alert_reason(alerts.get(f"cta_click:{prospect.pk}:{scope}:{click.cta_id}"))
    if click.is_bot:
        return _machine(_agent(click.user_agent))
    if from_alert is not None:
        return from_alert
    if click.cta_id not in settings.SIGNAL_CTA_IDS:
        return _("this button is not a signal (SIGNAL_CTA_IDS)")
    if click.page_view_id and click.page_view_id in machine_followups({click.page_view_id}):
        return _machine(_("follows a machine's click on the email link"))
    return ""


def email_reason(prospect: Prospect, event: EmailEvent, alerts: dict[str, Alert]) -> str:
    if event.machine_reason:
        return _machine(event.why_machine)
    if event.event == EmailEvent.Kind.OPENED:
        from_alert = _alert_reason(alerts.get(f"email_reopen:{prospect.pk}:{event.message_id}"[:300]))
        if from_alert is not None:
            return from_alert
        return _("an open outside the re-open window (%(low)g–%(high)g h after sending)") % {
            "low": settings.SIGNAL_EMAIL_REOPEN_MIN_HOURS,
            "high": settings.SIGNAL_EMAIL_REOPEN_MAX_HOURS,
        }
    if event.event == EmailEvent.Kind.CLICKED:
        followed = VisitEvent.objects.filter(
            ak=prospect.identity_token,
            received_at__gte=event.received_at,
            received_at__lte=event.received_at + FOLLOW_WINDOW,
        ).exists()
        if not followed:
            return _("no page view followed: a blocked tracker?")
    return ""


@dataclass(frozen=True)
class Elsewhere:
    """An event of this prospect's browser that carried another prospect's own link."""

    at: datetime
    kind: str  # visit | cta
    page: str
    cta_id: str
    owner: Prospect


def events_given_to_others(prospect: Prospect, *, limit: int = 200) -> list[Elsewhere]:
    """The prospect's browsers (visitors linked to it) stay a hint: their events that went to another
    prospect, by that prospect's own `ak`, are shown here with whom they went to."""
    visitors = Visitor.objects.filter(prospect=prospect).values("visitor_id")
    elsewhere = Q(visitor_id__in=visitors, prospect__isnull=False) & ~Q(prospect=prospect)
    found: list[Elsewhere] = []
    views = (
        VisitEvent.objects.filter(elsewhere)
        .exclude(page_view_id="")
        .values("page_view_id", "page", "prospect")
        .annotate(first=Min("received_at"))
        .order_by("-first")[:limit]
    )
    owners = Prospect.objects.in_bulk({v["prospect"] for v in views})
    found += [Elsewhere(v["first"], "visit", v["page"], "", owners[v["prospect"]]) for v in views]
    for click in CtaClick.objects.filter(elsewhere).select_related("prospect").order_by("-received_at")[:limit]:
        assert click.prospect is not None
        found.append(Elsewhere(click.received_at, "cta", click.page, click.cta_id, click.prospect))
    return found


def given_to(other: Prospect) -> str:
    return _("attributed to %(name)s (their own personal link)") % {"name": other.name or other.email}


def page_view_rows(prospect: Prospect, *, limit: int) -> list[dict[str, Any]]:
    """The prospect's page views, with what a reason needs; the visits its own `ak` made are its own
    even when the visitor was judged a machine's and matched nobody."""
    return list(
        VisitEvent.objects.filter(Q(prospect=prospect) | Q(prospect__isnull=True, ak=prospect.identity_token))
        .exclude(page_view_id="")
        .values("page_view_id", "page")
        .annotate(
            first=Min("received_at"),
            last=Max("received_at"),
            events=Count("pk"),
            bot=Count("pk", filter=Q(is_bot=True)),
            engaged_ms=Max("engaged_ms"),
            heartbeats=Count("pk", filter=Q(event=VisitEvent.Kind.HEARTBEAT)),
            heartbeat_s=Max("heartbeat_s"),
            user_agent=Max("user_agent"),
        )
        .order_by("-first")[:limit]
    )
