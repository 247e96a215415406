"""An event that carries a prospect's own link belongs to that prospect (issue 30, point 4).

One browser first opens Camille's personal link, later Chloé's (a shared computer, a colleague's
laptop): Chloé's CTA click, sent with Chloé's own `ak`, is Chloé's — she is texted, not held by
Camille's cooldown — and the browser's earlier identity stays a hint on Camille's timeline. Every
event that texted nobody says why on the timeline, and a visit judged a machine's appears there."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from alerts.cycle import detection_cycle_run
from alerts.outbox import sms
from alerts.outbox.models import Alert
from tests.factories import ProspectFactory, aware
from tracking.models import CtaClick, Visitor

pytestmark = pytest.mark.django_db
T0 = aware(2026, 11, 24, 9, 0, 0)
HEADLESS = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0 Safari/537.36"


@pytest.fixture
def browser(client, browser_headers, django_capture_on_commit_callbacks):
    """One shared browser (one visitor id) sending what tracker.js sends, at frozen times, each
    followed by the detection cycle the event asks for."""

    def send(path, at, page_view, ak, visitor="shared-browser-1", headers=None, **fields):
        body = {"visitor_id": visitor, "page_view_id": page_view, "page": "/audit", "ak": ak, **fields}
        with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
            response = client.post(path, json.dumps(body), "text/plain", **(headers or browser_headers))
            assert response.status_code == 202
            detection_cycle_run(trigger="schedule")

    return send


def test_a_click_with_chloes_link_in_camilles_browser_texts_chloe(browser, staff_client):
    camille = ProspectFactory(name="Camille Martin")
    chloe = ProspectFactory(name="Chloé Bernard")
    browser("/api/page/view", T0, "pageview-camille-1", camille.identity_token, event="pageview")
    browser(
        "/api/page/click",
        T0 + timedelta(seconds=20),
        "pageview-camille-1",
        camille.identity_token,
        cta_id="cta_reserver_audit",
    )
    assert [m.body.split(" ")[0] for m in sms.outbox] and "Camille Martin" in sms.outbox[0].body

    later = T0 + timedelta(hours=2)
    browser("/api/page/view", later, "pageview-chloe-1", chloe.identity_token, event="pageview")
    browser(
        "/api/page/click",
        later + timedelta(seconds=30),
        "pageview-chloe-1",
        chloe.identity_token,
        cta_id="cta_reserver_audit",
    )

    click = CtaClick.objects.get(page_view_id="pageview-chloe-1")
    assert click.prospect == chloe
    assert len(sms.outbox) == 2 and "Chloé Bernard" in sms.outbox[1].body, [m.body for m in sms.outbox]
    # The browser is still known as Camille's: its events without an ak stay hers.
    assert Visitor.objects.get(visitor_id="shared-browser-1").prospect == camille

    camille_timeline = staff_client.get(reverse("backoffice-timeline", args=[camille.pk])).content.decode()
    assert "attribué à Chloé Bernard (son propre lien personnel)" in camille_timeline

    # Chloé clicks again within the day: no second SMS, and her timeline says why.
    browser(
        "/api/page/click",
        later + timedelta(minutes=5),
        "pageview-chloe-2",
        chloe.identity_token,
        cta_id="cta_reserver_audit",
    )
    assert len(sms.outbox) == 2
    assert Alert.objects.filter(prospect=chloe, status=Alert.Status.COOLDOWN).exists()
    chloe_timeline = staff_client.get(reverse("backoffice-timeline", args=[chloe.pk])).content.decode()
    assert "Pas de SMS : délai de 24 h" in chloe_timeline


def test_a_visit_judged_a_machines_still_appears_on_the_timeline_with_why(browser, staff_client):
    chloe = ProspectFactory(name="Chloé Bernard")
    headless = {"HTTP_USER_AGENT": HEADLESS, "REMOTE_ADDR": "198.51.100.40"}
    browser("/api/page/view", T0, "pageview-sandbox", chloe.identity_token, "sandbox-1", headless, event="pageview")
    browser("/api/page/view", T0 + timedelta(seconds=20), "pageview-person", chloe.identity_token, event="pageview")
    browser(
        "/api/page/click",
        T0 + timedelta(seconds=25),
        "pageview-person",
        chloe.identity_token,
        cta_id="cta_other_button",
    )
    assert sms.outbox == []
    timeline = staff_client.get(reverse("backoffice-timeline", args=[chloe.pk])).content.decode()
    assert "machine : AppleWebKit/537.36 HeadlessChrome/131.0 Safari/537.36" in timeline
    assert "0 s de lecture, sous le seuil de 90 s" in timeline
    assert "ce bouton n&#x27;est pas un signal (SIGNAL_CTA_IDS)" in timeline
