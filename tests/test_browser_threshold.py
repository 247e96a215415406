""" "90 s" means 90 s (issue 30, point 5), in a real browser: the page view's answer tells the tracker
the threshold (SIGNAL_DWELL_SECONDS) and the tracker sends one beat just past it, instead of the
regular beat that falls just before it and the next one, a whole period later, that carried the SMS.

Scaled down: a 3 s threshold, a beat every 2 s. Before: beats at 2 s and 4 s, the SMS on the one at
4 s, "4 s" read. Now: one beat at about 3.15 s, the SMS on it, "3 s" read."""

import pytest
from django.test import override_settings

from alerts.outbox import sms
from alerts.outbox.models import Alert
from alerts.signals.models import Signal
from tests.browser import browser_page
from tests.factories import ProspectFactory
from tests.test_browser_tracking import wait_for
from tracking.models import VisitEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@override_settings(TRACKING_HEARTBEAT_SECONDS=2, SIGNAL_DWELL_SECONDS=3, ALERT_SMS_RECIPIENTS=["+33199000001"])
def test_the_beat_that_crosses_the_threshold_is_sent_just_past_it(live_server):
    prospect = ProspectFactory(name="Camille Martin")
    with browser_page(live_server.url) as page:
        page.goto(f"/audit-gratuit-monitoring.html?ak={prospect.identity_token}")
        assert wait_for(lambda: Alert.objects.filter(signal=Signal.PAGE_DWELL).exists(), timeout=8), "no dwell SMS"
        alert = Alert.objects.get(signal=Signal.PAGE_DWELL)
        beats = list(VisitEvent.objects.filter(event="heartbeat").order_by("received_at"))
    assert alert.prospect == prospect and alert.evidence["dwell_seconds"] == 3
    # One beat carried the page view past 3 s: the one sent for it, not a regular beat before it.
    assert len(beats) == 1
    assert wait_for(lambda: len(sms.outbox) == 1)
