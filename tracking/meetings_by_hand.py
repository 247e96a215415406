"""A meeting's outcome written by hand: held, no-show or cancelled. Any meeting — a booking tool's or
one booked on the phone — since a tool often never says whether the meeting took place, and the
ledger's "held" would otherwise guess from the clock."""

from django.utils import timezone

from tracking.models import Meeting

# What a person may set: the outcome of a meeting, not the tool's own "moved to another time".
BY_HAND = (Meeting.Status.HELD, Meeting.Status.NO_SHOW, Meeting.Status.CANCELLED, Meeting.Status.BOOKED)


def meeting_mark(*, meeting: Meeting, status: str) -> bool:
    """Set the meeting's status; False when it is not one a person may set, or already that."""
    if status not in BY_HAND or meeting.status == status:
        return False
    updated = Meeting.objects.filter(pk=meeting.pk).update(status=status, updated_at=timezone.now())
    meeting.status = status
    return bool(updated)
