"""The dashboard's consent panel in a real browser at 1,366 px: the counts a founder reads, nothing
scrolling sideways; `ARKWATCH_SCREENSHOTS=docs` saves docs/dashboard-consent.png."""

from datetime import timedelta

import pytest
from django.utils import timezone

from prospects.consent import prospect_consent_record
from prospects.do_not_contact import prospect_do_not_contact
from tests.browser import browser_page, log_in
from tests.factories import EmailEventFactory, ProspectFactory
from tests.test_browser_backoffice import screenshot_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def seed_a_campaign() -> None:
    """40 prospects emailed over the last weeks: most never asked, some granted, a few refused through
    the opt-out link, two unsubscribed through the email service."""
    now = timezone.now()
    for n in range(40):
        prospect = ProspectFactory(company=f"Société {n}")
        if n % 5 == 0:
            prospect_consent_record(prospect=prospect, state="granted", source="consent_link", network="198.51.100.0")
        elif n % 13 == 0:
            prospect_consent_record(prospect=prospect, state="refused", source="optout_link")
        elif n in (7, 11):
            prospect_do_not_contact(prospect=prospect, source="email_provider", detail="sendgrid:unsubscribe")
        for week in range(2):
            EmailEventFactory(prospect=prospect, message_id=f"m-{n}-{week}", occurred_at=now - timedelta(days=7 * week))


def test_the_consent_counts_read_at_1366_px(live_server, django_user_model, tmp_path):
    django_user_model.objects.create_superuser("founder", "founder@example.com", "a-long-test-password")
    seed_a_campaign()
    with browser_page(live_server.url) as page:
        page.set_viewport_size({"width": 1366, "height": 900})
        log_in(page, "founder", "a-long-test-password")
        panel = page.locator("#consent-counts")
        panel.wait_for()
        text = panel.inner_text()
        assert "Consentement et RGPD" in text
        counts = {
            state: panel.locator(f"tr.consent-{state} td.count").inner_text()
            for state in ("unknown", "granted", "refused", "do-not-contact")
        }
        assert counts == {"unknown": "27", "granted": "8", "refused": "5", "do-not-contact": "2"}
        # 32 prospects without pixel consent (unknown, refused), two messages each.
        assert panel.locator(".reopen-unavailable .count").inner_text() == "64"
        width = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert width[0] <= width[1]
        panel.scroll_into_view_if_needed()
        panel.screenshot(path=str(screenshot_dir(tmp_path) / "dashboard-consent.png"))
