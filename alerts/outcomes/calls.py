"""Recording a call, and what it means for the prospect's pipeline: from the back office's call form,
or from a reply to the alert SMS (alerts/outcomes/replies.py)."""

from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from alerts.outbox.models import Alert
from alerts.outcomes.models import Call, CallOutcome
from prospects.models import Prospect
from prospects.services import FINAL_STATUSES, prospects_set_status
from tracking.models import BookingTool, MatchMethod, Meeting

# What a call's outcome says about the prospect's place in the pipeline.
OUTCOME_STATUS: dict[CallOutcome, str | None] = {
    CallOutcome.REACHED: Prospect.Status.CALLED,
    CallOutcome.VOICEMAIL: Prospect.Status.CALLED,
    CallOutcome.MEETING_BOOKED: Prospect.Status.MEETING_BOOKED,
    CallOutcome.NOT_INTERESTED: Prospect.Status.LOST,
    CallOutcome.WRONG_PERSON: Prospect.Status.CALLED,
    CallOutcome.NO_ANSWER: Prospect.Status.CALLED,
    CallOutcome.FALSE_ALARM: None,  # nobody was called: the pipeline stays where it was
}


def call_record(
    *,
    prospect: Prospect,
    user: User | None,
    outcome: str,
    note: str = "",
    opener: str = "",
    via: str = Call.Via.OFFICE,
    callback_at: datetime | None = None,
    meeting_at: datetime | None = None,
) -> Call:
    """Record a call: who, when, what came of it. It acknowledges the prospect's open alerts and
    moves the prospect along the pipeline (never back from won/lost/do-not-contact).

    `callback_at`: the prospect asked to be called back then (alerts/outcomes/callbacks.py texts the founder).
    `meeting_at`: "RDV pris" with its date: a Meeting like the booking tools' (tool "appel"), which the
    hot-leads page, the detection's silence and the ledger read as any booking."""
    if outcome not in CallOutcome.values:
        raise ValueError(f"unknown call outcome {outcome!r}")
    now = timezone.now()
    with transaction.atomic():
        call = Call.objects.create(
            prospect=prospect,
            called_by=user,
            outcome=outcome,
            note=note,
            opener=opener[:300],
            via=via,
            callback_at=callback_at,
        )
        if meeting_at is not None and outcome == CallOutcome.MEETING_BOOKED:
            call.meeting = Meeting.objects.create(
                prospect=prospect,
                tool=BookingTool.PHONE,
                external_id=f"appel-{call.pk}",
                starts_at=meeting_at,
                # The founder wrote it: as sure as a personal link.
                match_method=MatchMethod.MANUAL,
                booked_at=call.called_at,
            )
            Call.objects.filter(pk=call.pk).update(meeting=call.meeting)
        Alert.objects.filter(prospect=prospect, call__isnull=True, occurred_at__lte=now).update(call=call)
        status = OUTCOME_STATUS[CallOutcome(outcome)]
        if status:
            keep = () if outcome == CallOutcome.MEETING_BOOKED else FINAL_STATUSES
            prospects_set_status(prospect_ids=[prospect.pk], status=status, not_from=keep)
    return call
