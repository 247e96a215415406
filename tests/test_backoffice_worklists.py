"""What a caller notices on the back office's work lists: who to call first and with which words,
who an unmatched visitor may be, what the funnel counts as contacted, and links that go somewhere."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from alerts.outbox.models import Alert
from backoffice.models import CallOpener
from backoffice.roles import CALLER_GROUP
from tests.factories import (
    CallFactory,
    CtaClickFactory,
    DetectionRunFactory,
    EmailEventFactory,
    ProspectFactory,
    VisitEventFactory,
    VisitorFactory,
)
from tests.test_backoffice import make_alert

pytestmark = pytest.mark.django_db


def lead_order(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<section class="lead [^"]*" data-id="(\d+)"', html)]


def test_leads_still_to_call_come_first_newest_first_then_those_called(staff_client):
    called_recently = ProspectFactory(name="Called Recently")
    make_alert(called_recently, minutes_ago=1)
    CallFactory(prospect=called_recently, outcome="reached")
    Alert.objects.filter(prospect=called_recently).update(call=called_recently.calls.get())
    old_to_call = ProspectFactory(name="Old To Call")
    make_alert(old_to_call, minutes_ago=90)
    new_to_call = ProspectFactory(name="New To Call")
    make_alert(new_to_call, minutes_ago=10)
    held = ProspectFactory(name="Held Only")
    make_alert(held, minutes_ago=2, status=Alert.Status.HELD)

    html = staff_client.get(reverse("backoffice-hot-leads")).content.decode()
    assert lead_order(html) == [new_to_call.pk, old_to_call.pk, held.pk, called_recently.pk]
    assert "À examiner" in html, "a lead with only a held alert is not to call"


def test_each_lead_says_how_long_it_has_waited(staff_client):
    waiting = ProspectFactory(name="Alice Attend")
    make_alert(waiting, minutes_ago=95)
    make_alert(waiting, signal="page_dwell", minutes_ago=10)
    html = staff_client.get(reverse("backoffice-hot-leads")).content.decode()
    # Since the oldest signal nobody called about.
    assert "en attente depuis 1\xa0heure, 35\xa0minutes" in html
    leads = staff_client.get(reverse("backoffice-hot-leads-json")).json()["leads"]
    assert leads[0]["waited"] == "en attente depuis 1\xa0heure, 35\xa0minutes"


def test_a_lead_opens_with_its_signals_opener_then_the_prospects_call_script(staff_client):
    clicked = ProspectFactory(name="Bruno Clic", call_script="Proposer l'audit de 30 min.")
    make_alert(clicked, signal="page_dwell", minutes_ago=20)
    make_alert(clicked, signal="cta_click", minutes_ago=2)
    reopened = ProspectFactory(name="Chloé Relit")
    make_alert(reopened, signal="email_reopen", minutes_ago=30)
    html = staff_client.get(reverse("backoffice-hot-leads")).content.decode()
    bruno = html[html.index("Bruno Clic") : html.index("Chloé Relit")]
    # The newest signal's opener, not the older dwell's, and before the prospect's own script.
    assert "Vous venez de cliquer — je peux vous briefer maintenant ?" in bruno
    assert "étudiez notre audit gratuit" not in bruno
    assert bruno.index("briefer maintenant") < bruno.index("Proposer l&#x27;audit de 30 min.")
    assert "Vous avez rouvert mon email — des questions ?" in html[html.index("Chloé Relit") :]


def test_the_three_default_openers_exist_and_staff_reword_them_in_the_admin(staff_client):
    assert set(CallOpener.objects.values_list("signal", flat=True)) == {"page_dwell", "cta_click", "email_reopen"}
    opener = CallOpener.objects.get(signal="cta_click")
    url = reverse("admin:backoffice_callopener_change", args=[opener.pk])
    response = staff_client.post(url, {"text": "Bonjour, vous regardiez notre offre à l'instant ?"})
    assert response.status_code == 302
    make_alert(ProspectFactory(), signal="cta_click")
    html = staff_client.get(reverse("backoffice-hot-leads")).content.decode()
    assert "Bonjour, vous regardiez notre offre à l&#x27;instant ?" in html
    assert "Modifier les phrases d'accroche" in html
    # One per signal, made by the migration: nobody adds or deletes one.
    assert staff_client.get(reverse("admin:backoffice_callopener_add")).status_code == 403


def test_callers_may_reword_the_openers(client, django_user_model):
    user = django_user_model.objects.create_user("caller", password="pw-for-tests-only", is_staff=True)
    user.groups.add(Group.objects.get(name=CALLER_GROUP))
    client.force_login(user)
    opener = CallOpener.objects.get(signal="page_dwell")
    client.post(reverse("admin:backoffice_callopener_change", args=[opener.pk]), {"text": "Vous lisez l'offre ?"})
    opener.refresh_from_db()
    assert opener.text == "Vous lisez l'offre ?"


def test_a_deleted_opener_falls_back_to_its_default(staff_client):
    CallOpener.objects.filter(signal="email_reopen").delete()
    make_alert(ProspectFactory(), signal="email_reopen")
    assert "Vous avez rouvert mon email" in staff_client.get(reverse("backoffice-hot-leads")).content.decode()


def test_the_unmatched_page_shows_what_helps_decide_and_the_closest_prospects(staff_client):
    now = timezone.now()
    ProspectFactory(name="Ana Acme", company="Acme Logistique", email="ana@acme-logistique.fr")
    initech = ProspectFactory(name="Ian Initech", company="Initech", email="ian@initech-tools.com")
    ProspectFactory(name="Zed Elsewhere", company="Nothing Alike", email="zed@zzz-unrelated.io")
    # Initech's CTO opened an email from the same office network last week.
    EmailEventFactory(
        prospect=initech, event="opened", client_network="203.0.113.0", received_at=now - timedelta(days=2)
    )
    for minutes in (6, 4):
        VisitEventFactory(
            visitor_id="anon-visitor-7f3a9c",
            page_view_id="pv-anon-7f3a",
            page="/audit-gratuit-monitoring.html",
            referrer="https://intranet.acme-logistics.com/outils",
            client_network="203.0.113.0",
            received_at=now - timedelta(minutes=minutes),
        )
    CtaClickFactory(
        visitor_id="anon-visitor-7f3a9c", client_network="203.0.113.0", received_at=now - timedelta(minutes=3)
    )

    html = staff_client.get(reverse("backoffice-unmatched")).content.decode()
    card = html[html.index('data-visitor="anon-visitor-7f3a9c"') :]
    assert "/audit-gratuit-monitoring.html" in card and "120 s" in card  # page and dwell
    assert "acme-logistics.com" in card  # referrer domain
    assert "203.0.113.0/24" in card  # network
    assert "Clic CTA" in card
    closest = card[card.index("Prospects les plus proches") :]
    assert closest.index("Ian Initech") < closest.index("Ana Acme"), "the same network first, then a look-alike domain"
    assert "a ouvert son e-mail depuis 203.0.113.0/24" in closest
    assert "acme-logistics.com ressemble à acme-logistique.fr" in closest
    assert "Zed Elsewhere (Nothing Alike)</strong>" not in closest

    staff_client.post(reverse("backoffice-unmatched"), {"visitor_id": "anon-visitor-7f3a9c", "prospect": initech.pk})
    assert initech.visitevent_set.count() == 2 and initech.ctaclick_set.count() == 1


def test_an_unmatched_visitor_with_a_given_email_is_close_to_that_domain(staff_client):
    now = timezone.now()
    prospect = ProspectFactory(name="Paul Domaine", email="paul@fictif-saas.example")
    VisitorFactory(visitor_id="anon-given-0001", email="marie@fictif-saas.example")
    CtaClickFactory(visitor_id="anon-given-0001", received_at=now - timedelta(minutes=1))
    html = staff_client.get(reverse("backoffice-unmatched")).content.decode()
    assert "marie@fictif-saas.example" in html
    assert "fictif-saas.example est son domaine" in html and str(prospect) in html


def test_contacted_counts_any_prospect_with_an_email_event(staff_client):
    now = timezone.now()
    EmailEventFactory(prospect=ProspectFactory(), event="sent", occurred_at=now - timedelta(days=1))
    # A webhook that reported the delivery (or an open) without any "sent" before it.
    EmailEventFactory(prospect=ProspectFactory(), event="delivered", occurred_at=now - timedelta(days=1))
    EmailEventFactory(prospect=ProspectFactory(), event="opened", occurred_at=now - timedelta(days=1))
    ProspectFactory()
    response = staff_client.get(reverse("backoffice-funnel"))
    assert {s.key: s.count for s in response.context["funnel"].steps}["contacted"] == 3


def test_a_detection_runs_title_is_in_the_same_time_zone_as_its_fields(staff_client):
    started = timezone.now().replace(month=1, day=15, hour=8, minute=0, second=0, microsecond=0)
    run = DetectionRunFactory(started_at=started)
    html = staff_client.get(reverse("admin:alerts_detectionrun_change", args=[run.pk])).content.decode()
    title = html[html.index("<title>") : html.index("</title>")]
    assert timezone.localtime(started).hour == 9  # winter: UTC+1
    assert "15 janvier 2026 09:00" in title and "08:00" not in title


def test_the_prospect_page_has_one_history_button_copyable_links_and_no_dead_links(staff_client):
    prospect = ProspectFactory()
    html = staff_client.get(reverse("admin:prospects_prospect_change", args=[prospect.pk])).content.decode()
    tools = html[html.index('class="object-tools"') : html.index("</ul>", html.index('class="object-tools"'))]
    labels = re.findall(r"<a [^>]*>([^<]+)</a>", tools)
    assert sorted(label.strip() for label in labels) == ["Chronologie", "Historique"]
    assert "Voir sur le site" not in html and "Voir le site" not in html
    # The pixel, the tracked link, the consent and opt-out links, and the ak folded away.
    assert html.count('class="button copy"') == 5 and prospect.identity_token in html


def test_the_timeline_links_are_copyable_and_the_edit_link_says_what_it_does(staff_client):
    prospect = ProspectFactory()
    html = staff_client.get(reverse("backoffice-timeline", args=[prospect.pk])).content.decode()
    assert 'data-copy="email-link-link"' in html and "/t/c/" in html
    assert "Modifier le prospect" in html and "Chronologie de" in html
