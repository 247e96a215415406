"""The dashboard's consent panel: what the law costs, in numbers, not a silent gap.

- How many prospects are in each consent state (unknown, granted, refused), and how many are do not
  contact (an unsubscribe, a spam complaint, or by hand), under the policy TRACKING_CONSENT_FOR says.
- Re-open signals unavailable for lack of consent: over the last RECENT_DAYS, the messages sent to a
  prospect whose consent does not allow the identifying pixel (prospects/consent.py prospect_allows).
  Each is a 24–48 h re-open window (SIGNAL_EMAIL_REOPEN_MIN/MAX_HOURS) in which an open can alert
  nobody: the pixel of such a message only counts opens in aggregate, with no time of open. An upper
  bound of the re-open alerts lost, not a count of them: most emails are never re-opened.
"""

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone

from prospects.consent import PIXEL, consent_policy, consent_required_for
from prospects.models import ConsentState, Prospect
from tracking.models import EmailEvent

RECENT_DAYS = 30


def without_pixel_consent() -> Q:
    """The prospects whose identifying open pixel is not allowed now, as a filter (prospect_allows): a
    refusal and do-not-contact whatever the policy (the opt-out link is in every email), and anyone
    who has not granted it when the policy asks consent for the pixel."""
    stopped = Q(status=Prospect.Status.DO_NOT_CONTACT) | Q(tracking_consent=ConsentState.REFUSED)
    if PIXEL not in consent_required_for():
        return stopped
    return stopped | ~Q(tracking_consent=ConsentState.GRANTED)


def reopen_windows_without_consent(*, days: int = RECENT_DAYS) -> int:
    """Messages sent (or delivered) in the last `days` to a prospect without pixel consent, once each."""
    since = timezone.now() - timedelta(days=days)
    return (
        EmailEvent.objects.filter(
            event__in=[EmailEvent.Kind.SENT, EmailEvent.Kind.DELIVERED],
            occurred_at__gte=since,
            prospect__in=Prospect.objects.filter(without_pixel_consent()),
        )
        .values("message_id")
        .distinct()
        .count()
    )


def consent_counts() -> dict[str, Any]:
    by_state = dict(Prospect.objects.values_list("tracking_consent").annotate(n=Count("pk")))
    states = [(value, by_state.get(value, 0)) for value in ConsentState.values]
    return {
        "consent_policy": consent_policy().describe(),
        "consent_required": bool(consent_required_for()),
        "pixel_needs_consent": PIXEL in consent_required_for(),
        "consent_states": states,
        "do_not_contact_count": Prospect.objects.filter(status=Prospect.Status.DO_NOT_CONTACT).count(),
        "reopen_unavailable": reopen_windows_without_consent(),
        "reopen_days": RECENT_DAYS,
    }


def consent_context(request: HttpRequest) -> dict[str, Any]:
    return consent_counts()
