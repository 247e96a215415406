"""The timeline of a prospect who sent an auto-reply, then answered in person, at 1,366 px in a real
browser: each reply with the words that sorted it. `ARKWATCH_SCREENSHOTS=docs` keeps the picture."""

import os
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from tests.browser import browser_page
from tests.factories import ProspectFactory
from tracking.replies.reading import read_raw
from tracking.replies.services import inbound_reply_record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
FRENCH = Path(__file__).resolve().parent / "data" / "replies-fr"


def test_the_timeline_shows_why_each_reply_was_sorted(live_server, django_user_model, tmp_path):
    django_user_model.objects.create_superuser("founder", "founder@example.com", "a-long-test-password")
    claire = ProspectFactory(
        name="Claire Dubois", company="Acme Industrie", email="claire.dubois@acme-industrie.fr", phone="+33639981234"
    )
    now = timezone.now()
    for name, minutes in (("auto-outlook-reponse-automatique.eml", 90), ("person-oui-jeudi.eml", 5)):
        written = format_datetime(now - timedelta(minutes=minutes + 1)).encode()
        raw = (FRENCH / name).read_bytes().replace(b"@mail.example.fr>", b".browser@mail.example.fr>")
        raw = raw.replace(b"Tue, 01 Dec 2026 10:05:00 +0000", written)
        with time_machine.travel(now - timedelta(minutes=minutes), tick=False), transaction.atomic():
            inbound_reply_record(letter=read_raw(raw), source="imap")
    with browser_page(live_server.url) as page:
        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto("/admin/login/")
        page.fill("#id_username", "founder")
        page.fill("#id_password", "a-long-test-password")
        page.click("input[type=submit]")
        page.goto(f"/admin/backoffice/timeline/{claire.pk}/")
        text = page.inner_text("body")
        assert "Réponse automatique — Auto-Submitted: auto-replied" in text
        assert "de retour le 14 décembre" in text
        assert "Réponse d'une personne — « Oui, appelez-moi jeudi" in text
        width = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert width[0] <= width[1]
        shots = Path(os.environ.get("ARKWATCH_SCREENSHOTS") or tmp_path)
        page.evaluate("() => localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
        page.reload()
        page.screenshot(path=str(shots / "replies-timeline.png"), full_page=True)
