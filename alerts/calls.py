"""Recording a call, and what it means for the prospect's pipeline: from the back office's call form,
or from a reply to the alert SMS (alerts/replies.py)."""

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from alerts.models import Alert, Call, CallOutcome
from prospects.models import Prospect

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
) -> Call:
    """Record a call: who, when, what came of it. It acknowledges the prospect's open alerts and
    moves the prospect along the pipeline (never back from won/lost/do-not-contact)."""
    if outcome not in CallOutcome.values:
        raise ValueError(f"unknown call outcome {outcome!r}")
    now = timezone.now()
    with transaction.atomic():
        call = Call.objects.create(
            prospect=prospect, called_by=user, outcome=outcome, note=note, opener=opener[:300], via=via
        )
        Alert.objects.filter(prospect=prospect, call__isnull=True, occurred_at__lte=now).update(call=call)
        final = (Prospect.Status.WON, Prospect.Status.LOST, Prospect.Status.DO_NOT_CONTACT)
        status = OUTCOME_STATUS[CallOutcome(outcome)]
        if status and (outcome == CallOutcome.MEETING_BOOKED or prospect.status not in final):
            Prospect.objects.filter(pk=prospect.pk).update(status=status)
    return call
