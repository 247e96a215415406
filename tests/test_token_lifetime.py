"""The lifetime of the pixel and tracked-link tokens: TRACKING_TOKEN_MAX_AGE_DAYS (365), checked
inside the range and one second on either side of its edge, through the endpoints a reader's mail
client hits. A lifetime counted in hours or minutes instead of days would expire last week's emails."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings

from tests.factories import ProspectFactory, aware
from tracking.models import EmailEvent
from tracking.tokens import make_link_token, make_pixel_token

pytestmark = pytest.mark.django_db

T0 = aware(2026, 1, 5, 9, 0, 0)
DESTINATION = "https://landing.example.com/audit-gratuit-monitoring.html"
YEAR = timedelta(days=365)
SECOND = timedelta(seconds=1)
AGES = [
    (timedelta(hours=1), True),
    (timedelta(days=30), True),
    (timedelta(days=364), True),
    (YEAR - SECOND, True),
    (YEAR + SECOND, False),
    (timedelta(days=400), False),
]


def _tokens(prospect) -> tuple[str, str]:
    with time_machine.travel(T0, tick=False):
        pixel = make_pixel_token(prospect_id=prospect.pk, message_id="<relance-1@example.com>")
        link = make_link_token(
            prospect_id=prospect.pk, message_id="<relance-1@example.com>", url=DESTINATION, ak=prospect.identity_token
        )
    return pixel, link


@pytest.mark.parametrize(("age", "valid"), AGES)
def test_an_open_counts_while_its_pixel_is_younger_than_a_year(client, browser_headers, age, valid):
    assert settings.TRACKING_TOKEN_MAX_AGE_DAYS == 365
    pixel, _link = _tokens(ProspectFactory(consented=True))
    with time_machine.travel(T0 + age, tick=False):
        response = client.get(f"/t/o/{pixel}.gif", **browser_headers)
    assert response.status_code == 200 and response.content.startswith(b"GIF"), "the GIF whatever the age"
    assert EmailEvent.objects.filter(event="opened").exists() is valid


@pytest.mark.parametrize(("age", "valid"), AGES)
def test_a_tracked_link_leads_on_while_younger_than_a_year_then_says_it_expired(client, browser_headers, age, valid):
    prospect = ProspectFactory(consented=True)
    _pixel, link = _tokens(prospect)
    with time_machine.travel(T0 + age, tick=False):
        response = client.get(f"/t/c/{link}", **browser_headers)
    if valid:
        assert response.status_code == 302 and response["Location"].startswith(DESTINATION)
    else:
        assert response.status_code == 410
    assert EmailEvent.objects.filter(event="clicked").exists() is valid


@pytest.mark.parametrize(
    ("days", "age", "valid"), [(30, timedelta(days=30) - SECOND, True), (30, timedelta(days=30) + SECOND, False)]
)
def test_the_lifetime_follows_its_setting(client, browser_headers, settings, days, age, valid):
    settings.TRACKING_TOKEN_MAX_AGE_DAYS = days
    pixel, _link = _tokens(ProspectFactory(consented=True))
    with time_machine.travel(T0 + age, tick=False):
        client.get(f"/t/o/{pixel}.gif", **browser_headers)
    assert EmailEvent.objects.filter(event="opened").exists() is valid


def test_a_lifetime_of_zero_days_means_links_never_expire(client, browser_headers, settings):
    """TRACKING_TOKEN_MAX_AGE_DAYS=0 is documented as "never": a five-year-old email still counts."""
    settings.TRACKING_TOKEN_MAX_AGE_DAYS = 0
    prospect = ProspectFactory(consented=True)
    pixel, link = _tokens(prospect)
    with time_machine.travel(T0 + 5 * YEAR, tick=False):
        client.get(f"/t/o/{pixel}.gif", **browser_headers)
        response = client.get(f"/t/c/{link}", **browser_headers)
    assert response.status_code == 302 and response["Location"].startswith(DESTINATION)
    assert EmailEvent.objects.filter(event="opened").exists()
    assert EmailEvent.objects.filter(event="clicked").exists()
