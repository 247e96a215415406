"""The tracker's reach on the dashboard, in a real browser at 1,366 px (issue 30, point 3): 50 people
clicked a tracked link in the last month, 47 page views followed; the founder reads "Portée du
traceur : 47 / 50 visites", and hot leads names the three whose tracker was blocked.
`ARKWATCH_SCREENSHOTS=docs` writes docs/dashboard-reach.png."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser import browser_page, log_in
from tests.factories import EmailEventFactory, ProspectFactory, VisitEventFactory
from tests.test_browser_backoffice import screenshot_dir
from tracking.models import EmailEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_dashboard_shows_the_tracker_reach_at_1366_px(live_server, django_user_model, tmp_path):
    django_user_model.objects.create_superuser("founder", "founder@example.com", "a-long-test-password")
    now = timezone.now()
    for n in range(50):
        prospect = ProspectFactory(name=f"Lecteur {n:02d}", company=f"Société {n:02d}", phone="+33199001234")
        clicked = now - timedelta(days=n % 20, hours=1 + n)
        EmailEventFactory(prospect=prospect, event=EmailEvent.Kind.CLICKED, occurred_at=clicked, url="https://x.fr/")
        if n % 17 != 3:  # 3, 20 and 37: their blocker stopped the tracker
            VisitEventFactory(ak=prospect.identity_token, event="pageview", received_at=clicked + timedelta(seconds=4))
    with browser_page(live_server.url) as page:
        page.set_viewport_size({"width": 1366, "height": 900})
        log_in(page, "founder", "a-long-test-password")
        panel = page.locator("#tracker-reach")
        assert "Portée du traceur : 47 / 50 visites" in panel.inner_text()
        page.evaluate("() => localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
        page.reload()
        assert page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        page.screenshot(path=str(screenshot_dir(tmp_path) / "dashboard-reach.png"), full_page=True)
        # Of the three, only Lecteur 20 clicked within the last 48 hours (21 h ago): hot leads names them.
        page.goto("/admin/backoffice/hot-leads/")
        flagged = page.locator("#blocked-tracker").inner_text()
        assert "Traceur bloqué ? Appelez quand même" in flagged and "Lecteur 20" in flagged
        assert "Lecteur 03" not in flagged and "Lecteur 00" not in flagged
