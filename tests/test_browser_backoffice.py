"""The founder's morning in a real browser: log in, a lead appears on the hot-leads page by itself
while a note is being typed elsewhere, the call is recorded, the funnel moves."""

import json
import os
from pathlib import Path

import pytest
import requests
from django.test import override_settings

from alerts.models import Alert, Call
from tests.browser import browser_page
from tests.factories import BROWSER_UA, EmailEventFactory, ProspectFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def screenshot_dir(tmp_path: Path) -> Path:
    # `ARKWATCH_SCREENSHOTS=docs make test` refreshes the pictures shown in the README.
    return Path(os.environ.get("ARKWATCH_SCREENSHOTS") or tmp_path)


@override_settings(BACKOFFICE_POLL_SECONDS=1, ALERT_SMS_RECIPIENTS=["+33600000001"])
def test_a_new_lead_appears_by_itself_and_the_call_is_recorded(live_server, django_user_model, tmp_path):
    django_user_model.objects.create_superuser("founder", "founder@example.com", "a-long-test-password")
    earlier = ProspectFactory(
        name="Alice Durand",
        company="Acme Logistique",
        phone="+33199001234",
        pain_point="Alertes trop tardives la nuit",
        call_script="Parler de l'astreinte.",
    )
    newcomer = ProspectFactory(
        name="Bruno Martin",
        company="Fictif SaaS",
        phone="+33199001235",
        pain_point="Trop de faux positifs",
        call_script="Proposer l'audit de 30 min.",
    )
    for prospect in (earlier, newcomer):
        EmailEventFactory(prospect=prospect, event="sent")

    def click_cta(prospect, visitor):
        visit = {
            "visitor_id": visitor,
            "page_view_id": f"pv-{visitor}",
            "page": "/audit-gratuit-monitoring.html",
            "ak": prospect.identity_token,
            "event": "pageview",
        }
        requests.post(
            f"{live_server.url}/api/track/visit",
            data=json.dumps(visit),
            timeout=5,
            headers={"Content-Type": "text/plain", "User-Agent": BROWSER_UA},
        )
        body = {
            "visitor_id": visitor,
            "page_view_id": f"pv-{visitor}",
            "page": "/audit-gratuit-monitoring.html",
            "ak": prospect.identity_token,
            "cta_id": "cta_reserver_audit",
        }
        response = requests.post(
            f"{live_server.url}/api/track/cta",
            data=json.dumps(body),
            timeout=5,
            headers={"Content-Type": "text/plain", "User-Agent": BROWSER_UA},
        )
        assert response.status_code == 202

    click_cta(earlier, "visitor-alice-01")
    shots = screenshot_dir(tmp_path)
    with browser_page(live_server.url) as page:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto("/admin/login/?next=/admin/backoffice/hot-leads/")
        page.fill("#id_username", "founder")
        page.fill("#id_password", "a-long-test-password")
        page.click("input[type=submit]")
        page.wait_for_selector(f'section.lead[data-id="{earlier.pk}"]')
        note = page.locator(f'section.lead[data-id="{earlier.pk}"] textarea[name=note]')
        note.fill("Rappeler après 14h")

        click_cta(newcomer, "visitor-bruno-01")
        # No reload: the poll brings the new lead in, above the earlier one.
        page.wait_for_selector(f'section.lead[data-id="{newcomer.pk}"]', timeout=10_000)
        ids = page.eval_on_selector_all("section.lead", "els => els.map(e => +e.dataset.id)")
        assert ids == [newcomer.pk, earlier.pk]
        assert note.input_value() == "Rappeler après 14h", "a refresh must not wipe what is being typed"
        assert page.locator(f'section.lead[data-id="{newcomer.pk}"] a[href="tel:+33199001235"]').count() == 1
        page.wait_for_timeout(1500)
        page.screenshot(path=str(shots / "hot-leads.png"), full_page=True)

        card = page.locator(f'section.lead[data-id="{newcomer.pk}"]')
        card.locator("select[name=outcome]").select_option("meeting_booked")
        card.locator("textarea[name=note]").fill("RDV mardi 10h")
        card.locator("button[type=submit]").click()
        page.wait_for_selector(f'section.lead[data-id="{newcomer.pk}"] .badge.done')

        page.goto("/admin/backoffice/funnel/")
        meeting = page.locator('tr[data-step="meeting"] td.count').inner_text()
        contacted = page.locator('tr[data-step="contacted"] td.count').inner_text()
        visited = page.locator('tr[data-step="visited"] td.count').inner_text()
        assert (contacted, visited, meeting) == ("2", "2", "1")
        page.screenshot(path=str(shots / "funnel.png"), full_page=True)

        page.goto(f"/admin/backoffice/timeline/{newcomer.pk}/")
        assert page.get_by_text("RDV mardi 10h").count() >= 1
        page.screenshot(path=str(shots / "timeline.png"), full_page=True)

    call = Call.objects.get()
    assert (call.prospect, call.outcome, call.called_by.username) == (newcomer, "meeting_booked", "founder")
    assert Alert.objects.get(prospect=newcomer).call_id is not None
    newcomer.refresh_from_db()
    assert newcomer.status == "meeting_booked"
