"""The landing page without browser storage (issue 28, point 4), in a real browser.

Under the default policy (`storage` needs consent) the demo page leaves localStorage, sessionStorage and
cookies empty, and its dwell and CTA signals still reach the server within the page view; a prospect who
granted `storage` keeps one visitor id across page loads."""

import pytest
from django.test import override_settings

from alerts.cycle import detection_cycle_run
from alerts.outbox import sms
from alerts.outbox.models import Alert
from alerts.signals.models import Signal
from prospects.models import ConsentState
from tests.browser import browser_page
from tests.factories import ProspectFactory
from tests.test_browser_tracking import wait_for
from tracking.models import CtaClick, VisitEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BROWSER_STATE = "() => [localStorage.length, sessionStorage.length, document.cookie]"


@override_settings(
    TRACKING_HEARTBEAT_SECONDS=1,
    SIGNAL_DWELL_SECONDS=3,
    ALERT_SMS_RECIPIENTS=["+33199000001"],
    TRACKING_CONSENT_FOR=["pixel", "storage"],
)
def test_under_the_default_policy_the_demo_page_writes_nothing_and_its_signals_still_arrive(live_server):
    prospect = ProspectFactory(name="Camille Martin")
    assert prospect.tracking_consent == ConsentState.UNKNOWN
    with browser_page(live_server.url) as page:
        page.goto(f"/audit-gratuit-monitoring.html?ak={prospect.identity_token}")
        assert "ak=" not in page.url
        page.wait_for_timeout(4500)  # past the 3 s reading threshold, a beat a second
        page.get_by_role("button", name="Réserver audit").click()
        assert wait_for(lambda: CtaClick.objects.filter(prospect=prospect).exists()), "CTA click not matched"
        assert page.evaluate(BROWSER_STATE) == [0, 0, ""]
        # The next page load of the same tab: still nothing written, and nothing to recognise it by.
        page.reload()
        page.wait_for_timeout(500)
        assert page.evaluate(BROWSER_STATE) == [0, 0, ""]
        assert page.context.cookies() == []
    detection_cycle_run(trigger="schedule")
    views = VisitEvent.objects.filter(event="pageview")
    assert views.count() == 2 and len({event.visitor_id for event in views}) == 2, "a visitor id per page view"
    assert set(Alert.objects.filter(prospect=prospect).values_list("signal", flat=True)) == {
        Signal.PAGE_DWELL,
        Signal.CTA_CLICK,
    }
    assert wait_for(lambda: len(sms.outbox) == 2)


@override_settings(TRACKING_HEARTBEAT_SECONDS=1, TRACKING_CONSENT_FOR=["pixel", "storage"])
def test_a_prospect_who_granted_storage_keeps_its_visitor_id_across_page_loads(live_server):
    prospect = ProspectFactory(tracking_consent=ConsentState.GRANTED)
    with browser_page(live_server.url) as page:
        page.goto(f"/audit-gratuit-monitoring.html?ak={prospect.identity_token}")
        first_id = page.evaluate("() => window.arkwatch.visitorId")
        # The page view's answer allows storage: the tracker keeps its id and the ak.
        page.wait_for_function("() => localStorage.getItem('arkwatch_vid') !== null")
        page.goto("/audit-gratuit-monitoring.html")  # a later page load, without the personal link
        assert page.evaluate("() => window.arkwatch.visitorId") == first_id
        assert wait_for(lambda: VisitEvent.objects.filter(event="pageview").count() == 2)
    views = VisitEvent.objects.filter(event="pageview")
    assert {event.visitor_id for event in views} == {first_id}
    assert {event.ak for event in views} == {prospect.identity_token}, "the second load carries the ak too"
