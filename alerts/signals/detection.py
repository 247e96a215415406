"""Which new evidence completes a signal: match the visitors seen in the window, then read the window's
page views, clicks, opens, bookings and replies for the signals they complete.

Incremental: a cycle reads the events received since the previous cycle's window end (alerts/cycle.py,
minus a small overlap), plus every event of visitors matched since then, so its cost follows what
arrived, not the history. It only reads and matches: recording each signal as an alert, and whether it
texts, is the outbox's (alerts/outbox/admission.py).
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.db.models import Min, Model, QuerySet

from alerts.signals.detected import DetectedSignal
from alerts.signals.dwell import find_dwell_signals
from alerts.signals.models import Signal
from tracking.machine_visits import machine_followups
from tracking.mail_fetchers import mail_client_name
from tracking.matching import visitors_match
from tracking.models import (
    CtaClick,
    EmailEvent,
    Identification,
    InboundReply,
    Meeting,
    ReplyKind,
    VisitEvent,
    Visitor,
    identification_of,
)

T = TypeVar("T")
M = TypeVar("M", bound=Model)

CHUNK = 500


@dataclass(frozen=True)
class Found:
    """What one window holds: its signals, and the figures its detection run keeps."""

    signals: list[DetectedSignal]
    events_scanned: int
    visitors_matched: int


def _chunks(items: list[T], size: int = CHUNK) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _since(queryset: QuerySet[M], window_start: datetime | None) -> QuerySet[M]:
    return queryset.filter(received_at__gte=window_start) if window_start else queryset


def find_cta_signals(clicks: Iterable[CtaClick]) -> list[DetectedSignal]:
    clicks = list(clicks)
    machines = machine_followups({c.page_view_id for c in clicks if c.page_view_id and c.ak})
    found = []
    for click in clicks:
        if click.prospect_id is None:  # callers pass matched clicks only; an unmatched one texts nobody
            continue
        if click.page_view_id in machines:  # a sandbox clicking through the page it was sent to
            continue
        scope = click.page_view_id or f"click{click.pk}"
        found.append(
            DetectedSignal(
                prospect_id=click.prospect_id,
                signal=Signal.CTA_CLICK,
                dedup_key=f"cta_click:{click.prospect_id}:{scope}:{click.cta_id}",
                occurred_at=click.received_at,
                client_network=click.client_network,
                evidence={
                    "cta_id": click.cta_id,
                    "page": click.page[:300],
                    "visitor_id": click.visitor_id,
                    "click_id": click.pk,
                },
            )
        )
    return found


def find_reopen_signals(opens: Iterable[EmailEvent]) -> list[DetectedSignal]:
    opens = list(opens)
    low = timedelta(hours=settings.SIGNAL_EMAIL_REOPEN_MIN_HOURS)
    high = timedelta(hours=settings.SIGNAL_EMAIL_REOPEN_MAX_HOURS)
    sent_at: dict[tuple[int, str], datetime] = {}
    for chunk in _chunks(sorted({o.message_id for o in opens})):
        rows = (
            EmailEvent.objects.filter(message_id__in=chunk, event=EmailEvent.Kind.SENT)
            .values("prospect_id", "message_id")
            .annotate(sent=Min("occurred_at"))
        )
        sent_at.update({(r["prospect_id"], r["message_id"]): r["sent"] for r in rows})
    found = []
    for event in opens:
        sent = sent_at.get((event.prospect_id, event.message_id))
        if sent is None or not low <= event.occurred_at - sent <= high:
            continue
        hours = (event.occurred_at - sent).total_seconds() / 3600
        found.append(
            DetectedSignal(
                prospect_id=event.prospect_id,
                signal=Signal.EMAIL_REOPEN,
                dedup_key=f"email_reopen:{event.prospect_id}:{event.message_id}"[:300],
                occurred_at=event.occurred_at,
                client_network=event.client_network,  # verified: the pixel and link tokens are signed
                evidence={
                    "message_id": event.message_id,
                    "sent_at": sent.isoformat(),
                    "opened_at": event.occurred_at.isoformat(),
                    "hours_after_sent": round(hours, 1),
                    "email_event_id": event.pk,
                    "client": mail_client_name(event.user_agent),
                },
            )
        )
    return found


def find_meeting_signals(meetings: Iterable[Meeting]) -> list[DetectedSignal]:
    """A booking (or a booking's new time) is a signal of its own: one alert per meeting and start
    time, verified when the booking link carried the prospect's ak, unverified when only the email matched."""
    return [
        DetectedSignal(
            prospect_id=meeting.prospect_id,
            signal=Signal.MEETING_BOOKED,
            dedup_key=f"meeting_booked:{meeting.pk}:{int(meeting.starts_at.timestamp())}",
            occurred_at=meeting.booked_at,
            identification=meeting.identification or Identification.UNVERIFIED,
            # The meeting itself is named by the dedup key; the alert page reads these two.
            evidence={"tool": meeting.tool, "starts_at": meeting.starts_at.isoformat()},
        )
        for meeting in meetings
    ]


def find_reply_signals(replies: Iterable[InboundReply]) -> list[DetectedSignal]:
    """A person answered a prospecting email (tracking/replies/): one alert per reply, as sure as the
    reply's match (verified when the receiving server authenticated the prospect's own address)."""
    return [
        DetectedSignal(
            prospect_id=reply.prospect_id,
            signal=Signal.EMAIL_REPLY,
            dedup_key=f"email_reply:{reply.pk}",
            # When it was written (never after it reached us): an old reply read late does not text.
            occurred_at=reply.sent_at or reply.received_at,
            identification=reply.identification or Identification.UNVERIFIED,
            evidence={"excerpt": reply.excerpt, "reply_id": reply.pk, "subject": reply.subject[:120]},
        )
        for reply in replies
    ]


def signals_find(window_start: datetime | None, now: datetime) -> Found:
    new_visits = _since(VisitEvent.objects.filter(received_at__lte=now), window_start)
    new_clicks = _since(CtaClick.objects.filter(received_at__lte=now), window_start)
    visit_rows = list(new_visits.values_list("visitor_id", "page_view_id"))
    click_visitors = set(new_clicks.values_list("visitor_id", flat=True))

    # 1. Matching: every visitor seen in the window, from the hints its new events carry, and every
    #    visitor that gave an email through identify since then.
    identified = _since_email_given(window_start).values_list("visitor_id", flat=True)
    active_visitors = {v for v, _ in visit_rows} | click_visitors | set(identified)
    visitors_matched = visitors_match(active_visitors, since=window_start)

    # 2. Visitors matched since the last window (here, by identify, or by hand): their earlier
    #    events count too.
    relinked = set(_since_matched(window_start).values_list("visitor_id", flat=True))

    page_views = {pv for _, pv in visit_rows if pv}
    for chunk in _chunks(sorted(relinked)):
        page_views |= set(
            VisitEvent.objects.filter(visitor_id__in=chunk)
            .exclude(page_view_id="")
            .values_list("page_view_id", flat=True)
        )
    signals = find_dwell_signals(page_views, now)

    cta_ids = list(settings.SIGNAL_CTA_IDS)
    listed = CtaClick.objects.filter(cta_id__in=cta_ids, is_bot=False, prospect__isnull=False, received_at__lte=now)
    clicks = {c.pk: c for c in _since(listed, window_start)}
    for chunk in _chunks(sorted(relinked)):
        clicks.update({c.pk: c for c in listed.filter(visitor_id__in=chunk)})
    signals += find_cta_signals(sorted(clicks.values(), key=lambda c: c.pk))

    opens = _since(
        EmailEvent.objects.filter(event=EmailEvent.Kind.OPENED, machine_reason="", received_at__lte=now), window_start
    )
    signals += find_reopen_signals(opens)
    signals = with_identification(signals)

    booked = Meeting.objects.filter(status=Meeting.Status.BOOKED, booked_at__lte=now)
    if window_start:
        booked = booked.filter(booked_at__gte=window_start)
    replies = InboundReply.objects.filter(kind=ReplyKind.PERSON, received_at__lte=now)
    if window_start:
        replies = replies.filter(received_at__gte=window_start)
    return Found(
        signals=signals + find_meeting_signals(booked) + find_reply_signals(replies),
        events_scanned=len(visit_rows) + len(click_visitors),
        visitors_matched=visitors_matched,
    )


def with_identification(signals: list[DetectedSignal]) -> list[DetectedSignal]:
    """Browser signals are as sure as the visitor's match: verified by an ak token or a hand link,
    unverified: an email, a domain, a referrer or an IP rule (one query for all the visitors)."""
    visitor_ids = {s.evidence["visitor_id"] for s in signals if "visitor_id" in s.evidence}
    methods = dict(Visitor.objects.filter(visitor_id__in=visitor_ids).values_list("visitor_id", "match_method"))

    def identified(signal: DetectedSignal) -> DetectedSignal:
        if "visitor_id" not in signal.evidence:
            return signal  # email signals: the pixel and link tokens are signed, verified
        method = methods.get(signal.evidence["visitor_id"], "")
        return replace(signal, identification=identification_of(method) or Identification.UNVERIFIED)

    return [identified(s) for s in signals]


def _since_email_given(window_start: datetime | None) -> QuerySet[Visitor]:
    visitors = Visitor.objects.filter(email_given_at__isnull=False)
    return visitors.filter(email_given_at__gte=window_start) if window_start else visitors


def _since_matched(window_start: datetime | None) -> QuerySet[Visitor]:
    visitors = Visitor.objects.filter(prospect__isnull=False)
    return visitors.filter(matched_at__gte=window_start) if window_start else visitors
