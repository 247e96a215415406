"""The demo landing page in a real browser: tracker.js sends the pageview, heartbeats and the CTA
click; all of them end up matched to the prospect whose personal link was opened."""

import time

import pytest
from django.test import override_settings

from alerts.cycle import detection_cycle_run
from alerts.outbox import sms
from tests.browser import browser_page
from tests.factories import ProspectFactory
from tracking.models import CtaClick, VisitEvent, Visitor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@override_settings(TRACKING_HEARTBEAT_SECONDS=1, ALERT_SMS_RECIPIENTS=["+33199000001"])
def test_a_visit_through_the_personal_link_is_tracked_and_matched(live_server):
    prospect = ProspectFactory(name="Camille Martin", company="Exemple Logistique")
    with browser_page(live_server.url) as page:
        page.goto(f"/audit-gratuit-monitoring.html?ak={prospect.identity_token}&utm_source=email")
        page.wait_for_timeout(3500)  # a few heartbeats
        assert "ak=" not in page.url and "utm_source=email" in page.url
        page.get_by_role("button", name="Réserver audit").click()
        assert page.get_by_text("Merci").is_visible()
        assert wait_for(lambda: CtaClick.objects.filter(prospect=prospect).exists()), "click not matched"
        page.close(run_before_unload=True)
        # pagehide sends `leave` with sendBeacon.
        assert wait_for(lambda: VisitEvent.objects.filter(event="leave").exists()), "no leave event"

    # Heartbeats that arrived after the click's immediate cycle are attributed by the next one.
    detection_cycle_run(trigger="schedule")
    kinds = list(VisitEvent.objects.values_list("event", flat=True))
    assert kinds.count("pageview") == 1 and kinds.count("heartbeat") >= 2 and kinds.count("leave") == 1
    assert set(VisitEvent.objects.values_list("prospect_id", flat=True)) == {prospect.pk}
    assert len(set(VisitEvent.objects.values_list("page_view_id", flat=True))) == 1
    click = CtaClick.objects.get()
    assert (click.cta_id, click.prospect, click.is_bot) == ("cta_reserver_audit", prospect, False)
    visitor = Visitor.objects.get()
    assert (visitor.prospect, visitor.match_method) == (prospect, "ak")
    # The click completed a signal: the founder got the SMS.
    assert wait_for(lambda: len(sms.outbox) == 1)
    assert "Camille Martin" in sms.outbox[0].body
