"""The founder's morning in a real browser: log in, a lead appears on the hot-leads page by itself
while a note is being typed elsewhere, the call is recorded, the funnel moves. Then a tour of every
admin and back-office page at 1,366 px: nothing scrolls sideways, no link leads to a 404, and the
README's screenshots are taken."""

import json
import os
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
import requests
from django.contrib import admin
from django.test import override_settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from alerts.outbox.models import Alert
from alerts.outcomes.models import Call
from alerts.signals.models import Signal
from backoffice import views as backoffice_views
from backoffice.models import DEFAULT_CALL_OPENERS, CallOpener
from tests.browser import browser_page
from tests.factories import (
    BROWSER_UA,
    AlertDeliveryFactory,
    AlertFactory,
    CallFactory,
    CtaClickFactory,
    DetectionRunFactory,
    EmailEventFactory,
    ProspectFactory,
    SignalCooldownFactory,
    VisitEventFactory,
    VisitorFactory,
)
from tracking.models import WebhookUnknownRecipients

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def screenshot_dir(tmp_path: Path) -> Path:
    # `ARKWATCH_SCREENSHOTS=docs make test` refreshes the pictures shown in the README.
    return Path(os.environ.get("ARKWATCH_SCREENSHOTS") or tmp_path)


@override_settings(ALERT_SMS_RECIPIENTS=["+33199000001"])
@mock.patch.object(backoffice_views, "POLL_SECONDS", 1)
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

        card = page.locator(f'section.lead[data-id="{newcomer.pk}"]')
        card.locator("textarea[name=note]").fill("RDV mardi 10h")
        tuesday = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT10:00")
        card.locator("input[name=meeting_at]").fill(tuesday)
        card.locator("button[value=meeting_booked]").click()  # the outcome in one tap
        # The meeting booked on the phone is a meeting ahead: the card says when.
        page.wait_for_selector(f'section.lead[data-id="{newcomer.pk}"] .badge.meeting')

        page.goto("/admin/backoffice/funnel/")
        meeting = page.locator('tr[data-step="meeting"] td.count').inner_text()
        contacted = page.locator('tr[data-step="contacted"] td.count').inner_text()
        visited = page.locator('tr[data-step="visited"] td.count').inner_text()
        assert (contacted, visited, meeting) == ("2", "2", "1")

        page.goto(f"/admin/backoffice/timeline/{newcomer.pk}/")
        assert page.get_by_text("RDV mardi 10h").count() >= 1

    call = Call.objects.get()
    assert (call.prospect, call.outcome, call.called_by.username) == (newcomer, "meeting_booked", "founder")
    assert Alert.objects.get(prospect=newcomer).call_id is not None
    newcomer.refresh_from_db()
    assert newcomer.status == "meeting_booked"


# --- every page at 1,366 px ---------------------------------------------------------------------

LONG_PAGE = "/audit-gratuit-monitoring.html?utm_source=newsletter&utm_medium=email&utm_campaign=" + "relance" * 30
LONG_UA = BROWSER_UA + " " + "Extension/1.0 " * 20


# The elements whose text a line break cuts between two letters or digits (not at a space or a dash).
MID_WORD_BREAKS = """els => els.filter(e => {
  const walker = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent;
    let top = null, before = " ";  // within one text node: an element's edge is no word's middle
    for (let i = 0; i < text.length; i++) {
      const range = document.createRange(); range.setStart(node, i); range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (!rect || !rect.width) { before = text[i]; continue; }  // a space at a line's end has no width
      const at = Math.round(rect.top);
      if (top !== null && at > top + 2 && /[\\p{L}\\p{N}]/u.test(before) && /[\\p{L}\\p{N}]/u.test(text[i])) {
        return true;
      }
      top = at; before = text[i];
    }
  }
  return false;
}).map(e => e.textContent.trim())"""


def seed_the_back_office(founder):
    """A believable morning: leads to call (a click, a long read), one to review, one called, two
    unmatched visitors, and long values wherever a page prints one."""
    now = timezone.now()
    for signal, text in DEFAULT_CALL_OPENERS.items():
        CallOpener.objects.get_or_create(signal=signal, defaults={"text": text})
    alice = ProspectFactory(
        name="Alice Durand",
        company="Acme Logistique",
        email="alice@acme-logistique.fr",
        phone="+33199001234",
        pain_point="Alertes trop tardives la nuit",
        call_script="Parler de l'astreinte, puis proposer l'audit de 30 min.",
    )
    bruno = ProspectFactory(
        name="Bruno Martin",
        company="Fictif SaaS",
        email="bruno@fictif-saas.example",
        phone="+33199001235",
        pain_point="Trop de faux positifs",
        call_script="Demander combien d'alertes ils ignorent par semaine.",
    )
    chloe = ProspectFactory(name="Chloé Petit", company="Initech", email="chloe@initech-tools.com", phone="")
    hugo = ProspectFactory(name="Hugo Bernard", company="Globex", email="hugo@globex-corp.example")

    def alert(prospect, signal, minutes, **fields):
        evidence = {
            Signal.CTA_CLICK: {"cta_id": "cta_reserver_audit"},
            Signal.PAGE_DWELL: {"dwell_seconds": 164},
            Signal.EMAIL_REOPEN: {"message_id": "relance-1", "hours_after_sent": 26},
        }[signal]
        return AlertDeliveryFactory(
            alert__prospect=prospect,
            alert__signal=signal,
            alert__occurred_at=now - timedelta(minutes=minutes),
            alert__evidence=evidence,
            **{f"alert__{k}": v for k, v in fields.items()},
        ).alert

    alert(alice, Signal.CTA_CLICK, 4, identification="verified")
    alert(alice, Signal.PAGE_DWELL, 9, identification="verified")
    alert(bruno, Signal.PAGE_DWELL, 38, identification="unverified")
    reopen = alert(chloe, Signal.EMAIL_REOPEN, 180, identification="verified")
    call = CallFactory(
        prospect=chloe, called_by=founder, outcome="meeting_booked", note="RDV mardi 10h avec l'équipe SRE"
    )
    reopen.call = call
    reopen.save(update_fields=["call"])
    # Held for review: nobody was texted.
    AlertFactory(prospect=hugo, occurred_at=now - timedelta(minutes=12), identification="unverified", status="held")

    for prospect, visitor in ((alice, "visitor-alice-0001"), (bruno, "visitor-bruno-0001")):
        VisitorFactory(visitor_id=visitor, prospect=prospect)
        for minutes, event in ((12, "pageview"), (9, "heartbeat"), (8, "leave")):
            VisitEventFactory(
                prospect=prospect,
                visitor_id=visitor,
                page_view_id=f"pv-{visitor}",
                page=LONG_PAGE,
                referrer="https://mail.google.com/",
                event=event,
                client_network="198.51.100.0",
                received_at=now - timedelta(minutes=minutes),
            )
        CtaClickFactory(
            prospect=prospect, visitor_id=visitor, user_agent=LONG_UA, received_at=now - timedelta(minutes=4)
        )
        EmailEventFactory(
            prospect=prospect, event="sent", message_id="relance-1", occurred_at=now - timedelta(hours=30)
        )
    for prospect, minutes in ((chloe, 175), (hugo, 13)):
        VisitEventFactory(prospect=prospect, event="pageview", received_at=now - timedelta(minutes=minutes))
    for prospect in (chloe, hugo, *(ProspectFactory() for _ in range(8))):  # the rest of the list was emailed too
        EmailEventFactory(
            prospect=prospect, event="sent", message_id="relance-1", occurred_at=now - timedelta(hours=30)
        )
    EmailEventFactory(
        prospect=chloe,
        event="opened",
        message_id="relance-1",
        client_network="203.0.113.0",
        occurred_at=now - timedelta(hours=3),
        received_at=now - timedelta(hours=3),
    )
    EmailEventFactory(
        prospect=alice,
        event="opened",
        message_id="relance-1",
        machine_reason="Apple Mail Privacy Protection (17.0.0.0/8)",
        occurred_at=now - timedelta(hours=29),
    )
    # Two visitors nobody is linked to: one from Initech's office network with a look-alike referrer.
    for minutes in (30, 27):
        VisitEventFactory(
            visitor_id="anon-7f3a9c2e1d",
            page_view_id="pv-anon-7f3a9c",
            page=LONG_PAGE,
            referrer="https://intranet.initech-tool.com/" + "wiki/" * 40,
            client_network="203.0.113.0",
            received_at=now - timedelta(minutes=minutes),
        )
    CtaClickFactory(visitor_id="anon-b81d44f0aa", client_network="192.0.2.0", received_at=now - timedelta(minutes=50))
    DetectionRunFactory(started_at=now - timedelta(minutes=1), events_scanned=12, signals_found=2, alerts_created=2)
    SignalCooldownFactory(prospect=alice)
    WebhookUnknownRecipients.objects.create(provider="brevo", day=now.date(), count=3, last_seen_at=now)
    return {"alice": alice, "bruno": bruno, "chloe": chloe, "hugo": hugo}


def every_admin_page(seeded) -> dict[str, str]:
    """Name -> path of each page staff can open: the index, each model's list, add and change pages,
    the back office's pages and the prospect import."""
    pages = {"index": reverse("admin:index"), "password": reverse("admin:password_change")}
    for model in admin.site._registry:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages[f"{info} list"] = reverse(f"{info}_changelist")
        try:
            pages[f"{info} add"] = reverse(f"{info}_add")
        except NoReverseMatch:
            pass
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages[f"{info} change"] = reverse(f"{info}_change", args=[first.pk])
    alice = seeded["alice"]
    pages.update(
        {
            "hot leads": reverse("backoffice-hot-leads"),
            "funnel": reverse("backoffice-funnel"),
            "ledger": reverse("backoffice-ledger"),
            "unmatched": reverse("backoffice-unmatched"),
            "timeline": reverse("backoffice-timeline", args=[alice.pk]),
            "prospect": reverse("admin:prospects_prospect_change", args=[alice.pk]),
            "import": reverse("admin:prospects_prospect_import"),
        }
    )
    return pages


# The README's pictures: page name -> file in docs/.
SCREENSHOTS = {
    "index": "dashboard.png",
    "admin:prospects_prospect list": "prospects.png",
    "admin:tracking_emailevent list": "email-events.png",
    "hot leads": "hot-leads.png",
    "timeline": "timeline.png",
    "funnel": "funnel.png",
    "ledger": "ledger.png",
    "unmatched": "unmatched.png",
    "prospect": "prospect.png",
}


@override_settings(ALERT_SMS_RECIPIENTS=["+33199000001"])
def test_no_page_scrolls_sideways_at_1366_px_and_no_link_is_dead(live_server, django_user_model, tmp_path):
    founder = django_user_model.objects.create_superuser("founder", "founder@example.com", "a-long-test-password")
    seeded = seed_the_back_office(founder)
    pages = every_admin_page(seeded)
    shots = screenshot_dir(tmp_path)
    widths: dict[str, tuple[int, int]] = {}
    broken: dict[str, list[str]] = {}  # page -> the short values wrapped over two lines
    hidden_columns: dict[str, tuple[int, int]] = {}  # changelist -> its table's scrollWidth / clientWidth
    links: dict[str, str] = {}  # link -> the page it was found on
    with browser_page(live_server.url) as page:
        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto("/admin/login/")
        page.fill("#id_username", "founder")
        page.fill("#id_password", "a-long-test-password")
        page.click("input[type=submit]")
        page.wait_for_selector("#leads-to-call")
        for name, path in pages.items():
            response = page.goto(path)
            if response.status == 403:  # an add page of a model nobody adds to (alerts, events)
                continue
            assert response.status == 200, (name, path, response.status)
            widths[name] = tuple(
                page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            )
            # No word broken in its middle: a phone number, a badge, a time stays on one line; an email,
            # a status, an id, a path wraps between words only.
            wrapped = page.eval_on_selector_all(
                'a[href^="tel:"], .badge, time, span.nowrap',
                "els => els.filter(e => { const r = document.createRange(); r.selectNodeContents(e); "
                "return new Set([...r.getClientRects()].filter(x => x.width > 0)"
                ".map(x => Math.round(x.top))).size > 1; })"
                ".map(e => e.textContent.trim())",
            ) + page.eval_on_selector_all(
                'a[href^="mailto:"], .sms, .delivery, .timeline .what, .prospect-line, td.field-email, '
                "td.field-status, td.field-phone_link, td.field-outcome, td.field-prospect, td.field-page",
                MID_WORD_BREAKS,
            )
            # A single "word" wider than any column (a 300-character tracking URL) may only be split.
            wrapped = [text for text in wrapped if max(map(len, text.split()), default=0) <= 80]
            if wrapped:
                broken[name] = wrapped
            # A changelist's table scrolls inside its own box: every column must show without it.
            if page.locator("#changelist .results").count():
                hidden_columns[name] = tuple(
                    page.eval_on_selector("#changelist .results", "el => [el.scrollWidth, el.clientWidth]")
                )
            for href in page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)"):
                if href.startswith(live_server.url) and "#" not in href:
                    links.setdefault(href, path)

        # The README's pictures, with the admin's side menu folded (it is a fixed-height column that a
        # full-page picture would cut).
        page.evaluate("() => localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
        for name, filename in SCREENSHOTS.items():
            page.goto(pages[name])
            page.screenshot(path=str(shots / filename), full_page=True)
        # An address with nothing there: the French 404 page, in the product's look.
        assert page.goto("/").status == 404
        assert "Page introuvable" in page.inner_text("h1")
        page.screenshot(path=str(shots / "not-found.png"), full_page=True)

        # What a caller sees, in French: the opener of the newest signal, then the prospect's script.
        page.goto(pages["hot leads"])
        alice_card = page.locator(f'section.lead[data-id="{seeded["alice"].pk}"]')
        assert "Vous venez de cliquer" in alice_card.locator(".opener").inner_text()
        assert "en attente depuis" in alice_card.locator(".waited").inner_text()
        order = page.eval_on_selector_all("section.lead", "els => els.map(e => +e.dataset.id)")
        assert order == [seeded[k].pk for k in ("alice", "bruno", "hugo", "chloe")]
        # The copy button puts the whole tracked link on the clipboard.
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        page.goto(pages["timeline"])
        page.click("#next-email-links summary")  # folded below the call sheet
        link = page.locator("#email-link-link").inner_text()
        page.locator('button[data-copy="email-link-link"]').click()
        assert page.evaluate("() => navigator.clipboard.readText()") == link.strip()

        dead = {}
        for href, found_on in links.items():
            status = page.request.get(href, max_redirects=5).status
            if status == 404 or status >= 500:
                dead[href] = (status, found_on)

    print("\nwidths at 1366 px (scrollWidth / clientWidth):")
    for name, (scroll, client) in widths.items():
        print(f"  {name}: {scroll} / {client}")
    print(f"{len(links)} links followed")
    print("changelists' tables at 1366 px (scrollWidth / clientWidth):")
    for name, (scroll, client) in hidden_columns.items():
        print(f"  {name}: {scroll} / {client}")
    sideways = {name: w for name, w in widths.items() if w[0] > w[1]}
    assert sideways == {}
    assert broken == {}, "words broken over two lines at 1366 px"
    cut = {name: w for name, w in hidden_columns.items() if w[0] > w[1]}
    assert cut == {}, "columns hidden behind a sideways scroll"
    with_rows = [m for m in admin.site._registry if m._default_manager.exists()]  # an empty list has no table
    assert {f"admin:{m._meta.app_label}_{m._meta.model_name} list" for m in with_rows} <= set(hidden_columns)
    assert dead == {}
    assert {"hot leads", "timeline", "funnel", "unmatched", "prospect"} <= set(widths)
