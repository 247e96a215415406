"""The tracker's real reach (issue 30, point 3): the share of a person's tracked-link clicks followed
within a minute by a page view carrying the same ak, on the dashboard; and on hot leads, the prospects
whose click no page view followed (a blocked tracker: call anyway)."""

import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from tests.factories import EmailEventFactory, ProspectFactory
from tracking.models import EmailEvent
from tracking.tokens import email_links_for

pytestmark = pytest.mark.django_db


def click_the_email_link(client, prospect, headers) -> None:
    link = email_links_for(prospect, message_id="<relance-1@acme.fr>", url=settings.LANDING_PAGE_URL).link_url
    assert client.get(urlsplit(link).path, **headers).status_code == 302


def page_view(client, prospect, headers, n: int) -> None:
    body = {"visitor_id": f"reader-{n:04d}", "page_view_id": f"pageview-{n:04d}", "page": "/audit", "event": "pageview"}
    response = client.post(
        "/api/page/view", json.dumps({**body, "ak": prospect.identity_token}), "text/plain", **headers
    )
    assert response.status_code == 202


@pytest.fixture
def three_readers(client, browser_headers):
    """Camille's click is followed by her page view 10 s later; Chloé's page view never comes (her
    blocker); Hugo's comes 3 minutes later, too late to count as the click's; a scanner's click counts
    for nobody."""
    start = timezone.now() - timedelta(hours=2)
    camille, chloe, hugo = (ProspectFactory(name=n, phone="+33639981234") for n in ("Camille", "Chloé", "Hugo"))
    with time_machine.travel(start, tick=False) as clock:
        for prospect in (camille, chloe, hugo):
            click_the_email_link(client, prospect, browser_headers)
        clock.shift(10)
        page_view(client, camille, browser_headers, 1)
        clock.shift(180)
        page_view(client, hugo, browser_headers, 2)
    EmailEventFactory(prospect=camille, event=EmailEvent.Kind.CLICKED, machine_reason="gateway", occurred_at=start)
    assert EmailEvent.objects.filter(event="clicked", machine_reason="").count() == 3
    return camille, chloe, hugo


def test_the_dashboard_shows_the_tracker_reach(staff_client, three_readers):
    content = staff_client.get(reverse("admin:index")).content.decode()
    panel = content[content.index('id="tracker-reach"') :]
    assert "Portée du traceur : 1 / 3 visites" in panel
    assert "(33 %)" in panel


def test_hot_leads_flags_a_prospect_whose_click_no_page_view_followed(staff_client, three_readers):
    camille, chloe, hugo = three_readers
    content = staff_client.get(reverse("backoffice-hot-leads")).content.decode()
    assert "Traceur bloqué ? Appelez quand même" in content
    flagged = content[content.index('id="blocked-tracker"') : content.index('id="leads"')]
    assert "Chloé" in flagged and "tel:+33639981234" in flagged
    # Camille's page view followed her click; Hugo's came late but came: his tracker is not blocked.
    assert "Camille" not in flagged and "Hugo" not in flagged
