"""Reads about one prospect, for the admin pages."""

from django.conf import settings
from django.utils import timezone

from prospects.models import Prospect


def prospect_email_links(prospect: Prospect) -> dict:
    """The ak, open pixel and tracked link to put in the next email to this prospect."""
    from tracking.tokens import email_links_for

    message_id = f"next-{timezone.localdate():%Y%m%d}"
    links = email_links_for(prospect, message_id=message_id, url=settings.LANDING_PAGE_URL)
    return {"email_links": links, "email_links_message_id": message_id}


def prospect_recent_activity(prospect: Prospect, *, limit: int = 20) -> dict:
    from alerts.models import Alert
    from tracking.models import CtaClick, EmailEvent, VisitEvent, Visitor

    return {
        **prospect_email_links(prospect),
        "recent_visits": VisitEvent.objects.filter(prospect=prospect).order_by("-received_at")[:limit],
        "recent_clicks": CtaClick.objects.filter(prospect=prospect).order_by("-received_at")[:limit],
        "recent_email_events": EmailEvent.objects.filter(prospect=prospect).order_by("-occurred_at")[:limit],
        "recent_alerts": Alert.objects.filter(prospect=prospect).order_by("-detected_at")[:limit],
        "linked_visitors": Visitor.objects.filter(prospect=prospect).order_by("-matched_at")[:limit],
    }
