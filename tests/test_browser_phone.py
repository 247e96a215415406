"""The founder's phone: the SMS link opens a page made for 390 × 844 — who, why, what to say, one big
button to call, the outcome in one tap — and the hot leads read there too. Nothing is wider than the
screen. The README's phone pictures are taken here (ARKWATCH_SCREENSHOTS=docs)."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from alerts.outbox.models import Alert
from alerts.outcomes.models import Call
from tests.browser import browser_page
from tests.test_browser_backoffice import screenshot_dir, seed_the_back_office
from tracking.models import Meeting

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def width(page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


def top(page, selector: str) -> float:
    return page.locator(selector).first.bounding_box()["y"]


@override_settings(ALERT_SMS_RECIPIENTS=["+33199000001"])
def test_the_page_an_sms_opens_is_made_for_a_phone(live_server, django_user_model, tmp_path):
    founder = django_user_model.objects.create_superuser("founder", "founder@example.com", "a-long-test-password")
    seeded = seed_the_back_office(founder)
    alice = seeded["alice"]
    texted = Alert.objects.filter(prospect=alice).order_by("-occurred_at").first()
    shots = screenshot_dir(tmp_path)
    with browser_page(live_server.url) as page:
        page.set_viewport_size(PHONE)
        # The link in the SMS, opened on the phone: login first, then the lead's page.
        page.goto(reverse("lead-short-link", args=[texted.pk]))
        page.fill("#id_username", "founder")
        page.fill("#id_password", "a-long-test-password")
        page.click("input[type=submit]")
        page.wait_for_selector(".call-sheet")
        assert width(page) <= PHONE["width"], "the page scrolls sideways on a phone"

        # Who, then why (the SMS's own sentence), then what to say, then the button to call.
        assert "Alice Durand" in page.inner_text(".call-sheet .who")
        assert texted.evidence_sentence in page.inner_text(".call-sheet .why")
        assert "Vous venez de cliquer" in page.inner_text(".call-sheet .opener")
        button = page.locator("a.call-button")
        assert button.get_attribute("href") == "tel:+33199001234"
        box = button.bounding_box()
        assert box["width"] >= 300 and box["height"] >= 44, "a thumb must hit it without aiming"
        order = [top(page, s) for s in (".call-sheet .who", ".call-sheet .why", ".call-sheet .opener", "a.call-button")]
        assert order == sorted(order)
        # The first screen holds all of it; the outcome buttons come right after.
        assert box["y"] + box["height"] <= PHONE["height"]
        assert top(page, "a.call-button") < top(page, "button[value=reached]")
        # The mail-merge links and the technical details are folded away, below.
        assert not page.locator("#email-link-link").is_visible()
        assert not page.locator("#prospect-details dl").is_visible()
        assert top(page, "#next-email-links") > top(page, "button[value=reached]")
        page.screenshot(path=str(shots / "sms-page-phone.png"), full_page=True)

        # "RDV pris" without its date asks for it rather than recording a meeting nobody can place.
        page.click("button[value=meeting_booked]")
        assert page.locator("input[name=meeting_at]:focus").count() == 1
        assert not Call.objects.filter(prospect=alice).exists()
        # The outcome in one tap, with a call-back set: "rappeler jeudi 10:00".
        thursday = timezone.localtime() + timedelta(days=3)
        page.fill("input[name=callback_at]", thursday.strftime("%Y-%m-%dT10:00"))
        page.click("button[value=voicemail]")
        page.wait_for_selector(".callback-line")
        assert width(page) <= PHONE["width"]

        call = Call.objects.get(prospect=alice)
        assert call.outcome == "voicemail"
        assert timezone.localtime(call.callback_at).strftime("%Y-%m-%d %H:%M") == thursday.strftime("%Y-%m-%d 10:00")

        # The meeting booked on the phone, with its date: a meeting like the booking tools', then held.
        page.fill("input[name=meeting_at]", thursday.strftime("%Y-%m-%dT14:30"))
        page.click("button[value=meeting_booked]")
        page.wait_for_selector(".meetings .meeting-booked")
        meeting = Meeting.objects.get(prospect=alice)
        assert meeting.tool == "appel" and meeting.match_method == "manual"
        page.click(".meetings button[value=held]")
        page.wait_for_selector(".meetings .meeting-held")
        assert width(page) <= PHONE["width"]


@override_settings(ALERT_SMS_RECIPIENTS=["+33199000001"])
def test_hot_leads_read_on_a_phone(live_server, django_user_model, tmp_path):
    founder = django_user_model.objects.create_superuser("founder", "founder@example.com", "a-long-test-password")
    seeded = seed_the_back_office(founder)
    with browser_page(live_server.url) as page:
        page.set_viewport_size(PHONE)
        page.goto("/admin/login/?next=" + reverse("backoffice-hot-leads"))
        page.fill("#id_username", "founder")
        page.fill("#id_password", "a-long-test-password")
        page.click("input[type=submit]")
        page.wait_for_selector(f'section.lead[data-id="{seeded["alice"].pk}"]')
        assert width(page) <= PHONE["width"], "the hot leads scroll sideways on a phone"
        card = page.locator(f'section.lead[data-id="{seeded["alice"].pk}"]')
        assert card.locator('a[href="tel:+33199001234"]').is_visible()
        assert card.locator("button[value=reached]").bounding_box()["height"] >= 36
        page.screenshot(path=str(screenshot_dir(tmp_path) / "hot-leads-phone.png"), full_page=True)
