"""The dashboard says what the law costs (issue 28, point 8): prospects per consent state, and the
re-open signals unavailable for lack of consent, with what that number counts."""

import html
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from backoffice.consent_counts import reopen_windows_without_consent
from tests.factories import EmailEventFactory, ProspectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign():
    unknown = [ProspectFactory(), ProspectFactory()]
    granted = ProspectFactory(tracking_consent="granted")
    refused = ProspectFactory(tracking_consent="refused")
    stopped = ProspectFactory(status="do_not_contact", tracking_consent="granted")
    now = timezone.now()
    # One message reported twice (sent, then delivered) is one re-open window.
    EmailEventFactory(prospect=unknown[0], message_id="m-1", event="sent", occurred_at=now - timedelta(days=2))
    EmailEventFactory(prospect=unknown[0], message_id="m-1", event="delivered", occurred_at=now - timedelta(days=2))
    EmailEventFactory(prospect=unknown[1], message_id="m-2", event="sent", occurred_at=now - timedelta(hours=30))
    EmailEventFactory(prospect=refused, message_id="m-3", event="sent", occurred_at=now - timedelta(days=5))
    EmailEventFactory(prospect=stopped, message_id="m-4", event="sent", occurred_at=now - timedelta(days=5))
    EmailEventFactory(prospect=granted, message_id="m-5", event="sent", occurred_at=now - timedelta(days=1))
    # Older than the panel's 30 days, and an open (not a message sent): not counted.
    EmailEventFactory(prospect=unknown[1], message_id="m-6", event="sent", occurred_at=now - timedelta(days=40))
    EmailEventFactory(prospect=unknown[1], message_id="m-2", event="opened", occurred_at=now - timedelta(hours=2))
    return unknown, granted, refused, stopped


def test_the_messages_without_pixel_consent_are_counted_once_each(campaign, settings):
    assert reopen_windows_without_consent() == 4  # m-1, m-2, m-3 and m-4 (do not contact)
    # No consent needed: only those who refused (the opt-out link is in every email) and the
    # do-not-contact lose their re-opens.
    settings.TRACKING_CONSENT_FOR = []
    assert reopen_windows_without_consent() == 2


def _count(page: str, css_class: str) -> int:
    match = re.search(rf'<tr class="{css_class}">.*?<td class="count">(\d+)</td>', page, re.S)
    assert match, css_class
    return int(match.group(1))


def test_the_dashboard_shows_each_consent_state_and_what_the_number_means(campaign, staff_client):
    page = staff_client.get("/admin/").content.decode()
    assert 'id="consent-counts"' in page
    counts = {state: _count(page, f"consent-{state}") for state in ("unknown", "granted", "refused", "do-not-contact")}
    assert counts == {"unknown": 2, "granted": 2, "refused": 1, "do-not-contact": 1}
    text = re.sub(r"\s+", " ", html.unescape(page))
    assert '<span class="count">4</span> signaux de réouverture indisponibles faute de consentement' in text
    assert "ces 30 derniers jours" in text
    assert "Compté : chaque email envoyé à un prospect dont le consentement ne permet pas le pixel" in text
    assert "Consentement demandé pour : pixel d'ouverture, stockage dans le navigateur" in text
