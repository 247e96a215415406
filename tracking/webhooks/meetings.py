"""Store what a booking tool reported (docs/interface.md): each delivery once, as a Meeting of the prospect
the booking link's ak (verified) or the invitee's email (unverified) names; strangers are only counted.

A new booking (or a booking's new time) is announced after commit, so that detection turns it into the
`meeting_booked` signal at once; the scheduled cycle finds it too (Meeting.booked_at)."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from prospects.models import Prospect
from prospects.services import prospects_set_status
from tracking.announcements import announce_event
from tracking.models import (
    VERIFIED_METHODS,
    BookingDelivery,
    MatchMethod,
    Meeting,
    meeting_is_over,
    upcoming_meetings,
)
from tracking.webhooks.events import BookingEvent
from tracking.webhooks.services import RecordOutcome, webhook_unknown_recipients_count

# A verified booking moves the prospect along the pipeline, never back from these; an email-only one
# moves nothing (anyone can type a prospect's address into a public booking page).
FINAL = (Prospect.Status.WON, Prospect.Status.LOST, Prospect.Status.DO_NOT_CONTACT)


def booking_match(event: BookingEvent) -> tuple[Prospect, str] | None:
    """The prospect behind a booking, strongest first: an ak the booking link carried, then the
    invitee's email. The email is what the invitee typed, so it only claims."""
    for ak in event.aks:
        prospect = Prospect.objects.filter(identity_token=ak).first()
        if prospect is not None:
            return prospect, MatchMethod.AK
    if event.email:
        prospect = Prospect.objects.filter(email=event.email.lower()).first()
        if prospect is not None:
            return prospect, MatchMethod.EMAIL
    return None


def booking_events_record(*, tool: str, events: list[BookingEvent]) -> RecordOutcome:
    stored = duplicates = unknown = 0
    for event in events:
        if BookingDelivery.objects.filter(key=event.key).exists():
            duplicates += 1
            continue
        known = Meeting.objects.filter(tool=tool, external_id=event.booking_id).select_related("prospect").first()
        match = (known.prospect, known.match_method) if known else booking_match(event)
        if match is None:
            unknown += 1
            continue
        try:
            # A savepoint: the same delivery arriving twice at once inserts its key once; the loser
            # undoes only its own event.
            with transaction.atomic():
                BookingDelivery.objects.create(tool=tool, key=event.key[:200], event=event.event[:60])
                meeting = _apply(tool=tool, event=event, prospect=match[0], method=match[1])
                BookingDelivery.objects.filter(key=event.key[:200]).update(meeting=meeting)
        except IntegrityError:
            duplicates += 1
            continue
        stored += 1
    if unknown:
        webhook_unknown_recipients_count(provider=tool, count=unknown)
    return RecordOutcome(stored=stored, duplicates=duplicates, unknown=unknown)


def _attended_status(meeting: Meeting, now: datetime) -> str:
    """They came (a no-show undone): held once the meeting is over, booked again until then; a
    cancelled or moved meeting stays so. "Over" is the one definition the funnel and ledger use."""
    if meeting.status not in (Meeting.Status.NO_SHOW, Meeting.Status.BOOKED, Meeting.Status.HELD):
        return meeting.status
    return Meeting.Status.HELD if meeting_is_over(meeting, now) else Meeting.Status.BOOKED


def _apply(*, tool: str, event: BookingEvent, prospect: Prospect, method: str) -> Meeting:
    now = timezone.now()
    meeting = Meeting.objects.select_for_update().filter(tool=tool, external_id=event.booking_id).first()
    status_before = meeting.status if meeting is not None else ""
    if meeting is None:
        meeting = Meeting(
            prospect=prospect,
            tool=tool,
            external_id=event.booking_id,
            match_method=method,
            invitee_email=event.email,
            starts_at=event.starts_at or now,
            ends_at=event.ends_at,
            status=event.status,
            booked_at=now,
        )
        meeting.save()
        booked = event.status == Meeting.Status.BOOKED
    else:
        moved = event.starts_at is not None and event.starts_at != meeting.starts_at
        booked = event.status == Meeting.Status.BOOKED and (moved or meeting.status != Meeting.Status.BOOKED)
        if event.starts_at is not None:
            meeting.starts_at, meeting.ends_at = event.starts_at, event.ends_at or meeting.ends_at
        if event.attended:
            meeting.status = _attended_status(meeting, now)
        # A no-show is not undone by a late "meeting ended" (only by the tool saying they came).
        elif not (event.status == Meeting.Status.HELD and meeting.status == Meeting.Status.NO_SHOW):
            meeting.status = event.status
        if booked:
            meeting.booked_at = now
        meeting.save()
    if event.previous_booking_id:
        Meeting.objects.filter(tool=tool, external_id=event.previous_booking_id).update(
            status=Meeting.Status.RESCHEDULED, updated_at=now
        )
    verified = meeting.match_method in VERIFIED_METHODS
    cancelled_now = meeting.status == Meeting.Status.CANCELLED and status_before != Meeting.Status.CANCELLED
    if booked and verified:
        _prospect_booked(meeting)
    elif cancelled_now and meeting.prospect_status_before:
        _prospect_unbooked(meeting, now)
    if booked:
        # Verified or not, a booking is a signal; an unverified one goes through the cooldown, the
        # budget and the hold like any claimed signal (alerts/outbox/admission.py).
        announce_event("meeting")
    return meeting


def _prospect_status(prospect_id: int) -> str:
    return Prospect.objects.filter(pk=prospect_id).values_list("status", flat=True).get()


def _prospect_booked(meeting: Meeting) -> None:
    """A verified booking moves the prospect to "meeting booked" and remembers where from, so that a
    cancellation can put it back. A prospect already there (a reschedule reported as a new booking)
    keeps the status its earlier booking remembered."""
    status = _prospect_status(meeting.prospect_id)
    if status in FINAL:
        return
    if status == Prospect.Status.MEETING_BOOKED:
        before = (
            Meeting.objects.filter(prospect_id=meeting.prospect_id)
            .exclude(pk=meeting.pk)
            .exclude(prospect_status_before="")
            .order_by("-booked_at")
            .values_list("prospect_status_before", flat=True)
            .first()
        )
    else:
        before = status
        prospects_set_status(prospect_ids=[meeting.prospect_id], status=Prospect.Status.MEETING_BOOKED)
    if before and not meeting.prospect_status_before:
        Meeting.objects.filter(pk=meeting.pk).update(prospect_status_before=before)
        meeting.prospect_status_before = before


def _prospect_unbooked(meeting: Meeting, now: datetime) -> None:
    """A cancelled booking puts the prospect's status back to what it was before it, unless someone
    moved it since (a call, a won deal) or another verified meeting is still ahead."""
    others = (
        upcoming_meetings(now)
        .filter(prospect_id=meeting.prospect_id, match_method__in=VERIFIED_METHODS)
        .exclude(pk=meeting.pk)
    )
    if others.exists():
        return
    prospects_set_status(
        prospect_ids=[meeting.prospect_id],
        status=meeting.prospect_status_before,
        only_from=[Prospect.Status.MEETING_BOOKED],
    )
