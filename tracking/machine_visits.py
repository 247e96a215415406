"""Page views that a machine made with a person's link.

A security sandbox follows the tracked link of a freshly delivered email (that click is judged a
machine's, tracking/mail_fetchers.py) and then loads the landing page it was redirected to, with an
ordinary browser user agent, from the same network, carrying the prospect's `ak`. Such a page view is
the machine's own visit, not the prospect reading: it must not complete a dwell or a CTA signal.
"""

from datetime import timedelta

from django.db.models import Min

from tracking.models import EmailEvent, VisitEvent

# A sandbox loads the page within seconds of its click; a person who clicked reads later, or from elsewhere.
FOLLOWUP_SECONDS = 120


def machine_followups(page_view_ids: set[str]) -> dict[str, str]:
    """{page view id: why} for page views that follow a machine's click on a tracked link: same client
    network, the token of the clicked link's prospect, first event within FOLLOWUP_SECONDS
    after the click. Asked only for the few page views that would otherwise complete a signal."""
    if not page_view_ids:
        return {}
    window = timedelta(seconds=FOLLOWUP_SECONDS)
    starts = (
        VisitEvent.objects.filter(page_view_id__in=sorted(page_view_ids), client_network__isnull=False)
        .exclude(ak="")
        .values("page_view_id", "ak", "client_network")
        .annotate(first=Min("received_at"))
    )
    found: dict[str, str] = {}
    for start in starts:
        click = (
            EmailEvent.objects.filter(
                event=EmailEvent.Kind.CLICKED,
                prospect__identity_token=start["ak"],
                client_network=start["client_network"],
                occurred_at__gte=start["first"] - window,
                occurred_at__lte=start["first"],
            )
            .exclude(machine_reason="")
            .values_list("machine_reason", flat=True)
            .first()
        )
        if click is not None:
            found[start["page_view_id"]] = f"follows a machine's click on the email link ({click})"
    return found
