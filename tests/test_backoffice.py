"""The back office: hot leads, calls, timeline, funnel, unmatched visitors, and who may do what."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from alerts.outbox.models import Alert, AlertDelivery
from alerts.outcomes.models import Call
from backoffice.roles import CALLER_GROUP
from tests.factories import (
    AlertDeliveryFactory,
    CallFactory,
    CtaClickFactory,
    EmailEventFactory,
    ProspectFactory,
    VisitEventFactory,
    VisitorFactory,
)
from tracking.models import Visitor

pytestmark = pytest.mark.django_db

PAGES = ["backoffice-hot-leads", "backoffice-hot-leads-json", "backoffice-funnel", "backoffice-unmatched"]


def make_alert(prospect, signal="cta_click", minutes_ago=5, **fields) -> Alert:
    when = timezone.now() - timedelta(minutes=minutes_ago)
    return AlertDeliveryFactory(
        alert__prospect=prospect,
        alert__signal=signal,
        alert__occurred_at=when,
        **{f"alert__{name}": value for name, value in fields.items()},
    ).alert


@pytest.fixture
def caller_client(client, django_user_model):
    user = django_user_model.objects.create_user("caller", password="pw-for-tests-only", is_staff=True)
    user.groups.add(Group.objects.get(name=CALLER_GROUP))
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def staff_without_roles(client, django_user_model):
    user = django_user_model.objects.create_user("intern", password="pw-for-tests-only", is_staff=True)
    client.force_login(user)
    return client


def test_hot_leads_lists_recent_signals_newest_first_with_what_a_caller_needs(staff_client):
    older = ProspectFactory(
        name="Alice Older", phone="+33199001234", pain_point="Trop d'alertes", call_script="Parler de l'astreinte"
    )
    newer = ProspectFactory(name="Bob Newer")
    make_alert(older, minutes_ago=30)
    make_alert(newer, signal="page_dwell", minutes_ago=2)
    make_alert(ProspectFactory(name="Carl Stale"), minutes_ago=60 * 49)
    content = staff_client.get(reverse("backoffice-hot-leads")).content.decode()
    assert content.index("Bob Newer") < content.index("Alice Older")
    assert "Carl Stale" not in content
    assert 'href="tel:+33199001234"' in content and "Appeler 01 99 00 12 34" in content  # dial E.164, read grouped
    assert "Trop d&#x27;alertes" in content and "Parler de l&#x27;astreinte" in content
    assert "A cliqué « Réserver audit »" in content and "cta_reserver_audit" not in content


def test_the_polling_json_gives_each_lead_its_html_and_version(staff_client):
    prospect = ProspectFactory(name="Alice")
    make_alert(prospect)
    first = staff_client.get(reverse("backoffice-hot-leads-json")).json()["leads"]
    assert [lead["id"] for lead in first] == [prospect.pk] and "Alice" in first[0]["html"]
    make_alert(prospect, signal="page_dwell", minutes_ago=1)
    second = staff_client.get(reverse("backoffice-hot-leads-json")).json()["leads"]
    assert second[0]["version"] != first[0]["version"]


def test_recording_a_call_acknowledges_alerts_and_moves_the_prospect(caller_client):
    prospect = ProspectFactory(status="hot")
    alerts = [make_alert(prospect), make_alert(prospect, signal="page_dwell", minutes_ago=3)]
    url = reverse("backoffice-record-call", args=[prospect.pk])
    # "RDV pris" asks for the meeting's date and time: without it nothing is recorded, with a sentence.
    refused = caller_client.post(url, {"outcome": "meeting_booked", "note": "Mardi 10h"}, follow=True)
    assert "Donnez la date et l&#x27;heure du RDV" in refused.content.decode() and not Call.objects.exists()
    response = caller_client.post(
        url, {"outcome": "meeting_booked", "note": "Mardi 10h", "meeting_at": "2026-12-15T10:00"}
    )
    assert response.status_code == 302
    call = Call.objects.get()
    # A meeting like the booking tools', verified by nature (the founder wrote it), at its local time.
    assert call.meeting.tool == "appel" and call.meeting.identification == "verified"
    assert timezone.localtime(call.meeting.starts_at).strftime("%Y-%m-%d %H:%M") == "2026-12-15 10:00"
    assert (call.prospect, call.outcome, call.note, call.called_by) == (
        prospect,
        "meeting_booked",
        "Mardi 10h",
        caller_client.user,
    )
    for alert in alerts:
        alert.refresh_from_db()
        assert alert.call.called_by == caller_client.user and alert.call.outcome == "meeting_booked"
    prospect.refresh_from_db()
    assert prospect.status == "meeting_booked"


def test_a_call_without_outcome_is_refused(caller_client):
    prospect = ProspectFactory()
    caller_client.post(reverse("backoffice-record-call", args=[prospect.pk]), {"outcome": "maybe"})
    assert Call.objects.count() == 0


def test_the_timeline_shows_everything_in_order(staff_client):
    prospect = ProspectFactory()
    now = timezone.now()
    VisitEventFactory(prospect=prospect, page_view_id="pv-t1", received_at=now - timedelta(minutes=10))
    VisitEventFactory(prospect=prospect, page_view_id="pv-t1", received_at=now - timedelta(minutes=8))
    CtaClickFactory(prospect=prospect, received_at=now - timedelta(minutes=7))
    EmailEventFactory(
        prospect=prospect,
        event="opened",
        occurred_at=now - timedelta(hours=30),
        machine_reason="Apple",
    )
    make_alert(prospect, minutes_ago=6)
    CallFactory(prospect=prospect, outcome="voicemail", note="rappeler")
    content = staff_client.get(reverse("backoffice-timeline", args=[prospect.pk])).content.decode()
    assert "120 s" in content  # the visit's dwell
    history = content[content.index('<ol class="timeline">') :]  # below the call sheet, which leads with "why"
    order = [history.index(marker) for marker in ["rappeler", "A cliqué « Réserver audit »", "120 s", "Apple"]]
    assert order == sorted(order)
    assert prospect.identity_token in content and "/t/o/" in content


def test_the_funnel_counts_prospects_per_step_with_conversion_rates(staff_client):
    now = timezone.now()
    prospects = [ProspectFactory() for _ in range(4)]
    for p in prospects:
        EmailEventFactory(prospect=p, event="sent", occurred_at=now - timedelta(days=2))
    for p in prospects[:2]:
        VisitEventFactory(prospect=p, received_at=now - timedelta(days=1))
    make_alert(prospects[0])
    CallFactory(prospect=prospects[0], outcome="meeting_booked")
    response = staff_client.get(reverse("backoffice-funnel"))
    steps = {s.key: (s.count, s.rate) for s in response.context["funnel"].steps}
    assert steps["contacted"] == (4, None)
    assert steps["visited"] == (2, 0.5)
    assert steps["signal"][0] == steps["alert"][0] == steps["called"][0] == steps["meeting"][0] == 1
    assert "<svg" in response.content.decode()
    # An earlier period does not count today's activity.
    earlier = staff_client.get(reverse("backoffice-funnel"), {"start": "2020-01-01", "end": "2020-01-31"})
    assert all(step.count == 0 for step in earlier.context["funnel"].steps)


def test_unmatched_hot_visitors_can_be_linked_by_hand(staff_client):
    now = timezone.now()
    VisitEventFactory(visitor_id="anon-0001", page_view_id="pv-anon1", received_at=now - timedelta(minutes=5))
    VisitEventFactory(visitor_id="anon-0001", page_view_id="pv-anon1", received_at=now - timedelta(minutes=3))
    VisitEventFactory(visitor_id="short-0001", page_view_id="pv-short", received_at=now - timedelta(minutes=3))
    content = staff_client.get(reverse("backoffice-unmatched")).content.decode()
    assert "anon-0001" in content and "short-0001" not in content
    prospect = ProspectFactory()
    staff_client.post(reverse("backoffice-unmatched"), {"visitor_id": "anon-0001", "prospect": prospect.pk})
    visitor = Visitor.objects.get(visitor_id="anon-0001")
    assert (visitor.prospect, visitor.match_method) == (prospect, "manual")
    assert prospect.visitevent_set.count() == 2
    assert "anon-0001" not in staff_client.get(reverse("backoffice-unmatched")).content.decode()


# --- permissions ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_users_are_sent_to_the_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_anonymous_users_cannot_record_calls(client):
    prospect = ProspectFactory()
    client.post(reverse("backoffice-record-call", args=[prospect.pk]), {"outcome": "reached"})
    assert Call.objects.count() == 0


@pytest.mark.parametrize("name", ["backoffice-hot-leads", "backoffice-funnel"])
def test_staff_without_a_role_cannot_see_the_back_office(staff_without_roles, name):
    assert staff_without_roles.get(reverse(name)).status_code == 403


def test_callers_see_hot_leads_prospects_and_events_and_record_calls(caller_client):
    prospect = ProspectFactory()
    make_alert(prospect)
    for url in [
        reverse("backoffice-hot-leads"),
        reverse("backoffice-timeline", args=[prospect.pk]),
        reverse("admin:prospects_prospect_changelist"),
        reverse("admin:tracking_visitevent_changelist"),
        reverse("admin:tracking_emailevent_changelist"),
        reverse("admin:alerts_alert_changelist"),
    ]:
        assert caller_client.get(url).status_code == 200, url
    page = caller_client.get(reverse("backoffice-hot-leads")).content.decode()
    assert reverse("backoffice-record-call", args=[prospect.pk]) in page


def test_callers_cannot_change_prospects_tokens_events_or_delivery_data(caller_client):
    prospect = ProspectFactory()
    alert = make_alert(prospect)
    event = VisitEventFactory(prospect=prospect)
    change = caller_client.post(
        reverse("admin:prospects_prospect_change", args=[prospect.pk]),
        {"email": "hijack@evil.example", "status": "won"},
    )
    assert change.status_code == 403
    assert (
        caller_client.post(reverse("admin:tracking_visitevent_delete", args=[event.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert caller_client.post(reverse("admin:alerts_alert_change", args=[alert.pk]), {"call": ""}).status_code == 403
    assert caller_client.post(reverse("admin:alerts_alert_delete", args=[alert.pk]), {"post": "yes"}).status_code == 403
    assert (
        caller_client.post(
            reverse("backoffice-unmatched"), {"visitor_id": "x" * 8, "prospect": prospect.pk}
        ).status_code
        == 403
    )
    prospect.refresh_from_db()
    assert prospect.email != "hijack@evil.example" and AlertDelivery.objects.get().status == "sent"


def test_the_sms_short_link_opens_the_leads_timeline_after_login(staff_client):
    from django.test import Client

    alert = make_alert(ProspectFactory())
    url = reverse("lead-short-link", args=[alert.pk])
    assert "/login/" in Client().get(url)["Location"]
    response = staff_client.get(url)
    assert response.status_code == 302
    # The lead's page, opened on the signal this SMS was about.
    assert response["Location"] == reverse("backoffice-timeline", args=[alert.prospect_id]) + f"?alerte={alert.pk}"


def test_the_admin_index_links_to_the_back_office(staff_client):
    content = staff_client.get(reverse("admin:index")).content.decode()
    for name in ["backoffice-hot-leads", "backoffice-funnel", "backoffice-unmatched"]:
        assert reverse(name) in content


def test_recording_a_call_never_redirects_off_site(caller_client):
    prospect = ProspectFactory()
    response = caller_client.post(
        reverse("backoffice-record-call", args=[prospect.pk]),
        {"outcome": "reached", "next": "https://evil.example/phish"},
    )
    assert response["Location"] == reverse("backoffice-hot-leads")
    back = caller_client.post(
        reverse("backoffice-record-call", args=[prospect.pk]),
        {"outcome": "reached", "next": reverse("backoffice-timeline", args=[prospect.pk])},
    )
    assert back["Location"] == reverse("backoffice-timeline", args=[prospect.pk])


def test_a_failed_alert_can_be_resent_or_acknowledged_from_hot_leads(caller_client, django_capture_on_commit_callbacks):
    from alerts.outbox import sms

    prospect = ProspectFactory(name="Alice Failed")
    failed = make_alert(prospect, status=Alert.Status.FAILED, message="Clic: Alice. Appeler")
    AlertDelivery.objects.filter(alert=failed).update(status="failed", last_error="OVH 500")
    page = caller_client.get(reverse("backoffice-hot-leads")).content.decode()
    assert reverse("backoffice-alert-action", args=[failed.pk]) in page
    url = reverse("backoffice-alert-action", args=[failed.pk])
    with django_capture_on_commit_callbacks(execute=True):  # the request's commit hands the SMS over
        caller_client.post(url, {"action": "resend"})
    failed.refresh_from_db()
    assert failed.status == "sent" and [m.body for m in sms.outbox] == ["Clic: Alice. Appeler"]
    assert caller_client.post(url, {"action": "resend"}).status_code == 302
    assert len(sms.outbox) == 1, "a second click sends nothing more"

    other = make_alert(ProspectFactory(), status=Alert.Status.FAILED)
    caller_client.post(reverse("backoffice-alert-action", args=[other.pk]), {"action": "acknowledge"})
    other.refresh_from_db()
    assert other.failure_acknowledged_at is not None


def test_alert_actions_need_the_caller_role(staff_without_roles):
    alert = make_alert(ProspectFactory(), status=Alert.Status.FAILED)
    response = staff_without_roles.post(reverse("backoffice-alert-action", args=[alert.pk]), {"action": "resend"})
    assert response.status_code == 403


def test_the_admin_index_is_a_dashboard_with_the_leads_to_call_first(staff_client):
    make_alert(ProspectFactory(name="Alice Hot"))
    make_alert(ProspectFactory(name="Bob Hot"), signal="page_dwell")
    content = staff_client.get(reverse("admin:index")).content.decode()
    leads = content[content.index('id="leads-to-call"') :]
    assert "2" in leads[: leads.index("</a>")] and "prospects à appeler maintenant" in leads
    assert content.index('id="leads-to-call"') < content.index(reverse("admin:prospects_prospect_changelist"))
    # Django Q's tables and the bookkeeping are in the folded technical section, not among the data.
    technical = content[content.index('id="technical-administration"') :]
    data = content[: content.index('id="technical-administration"')]
    for name in ["django_q_schedule", "alerts_signalcooldown", "alerts_alertdelivery", "auth_user"]:
        url = reverse(f"admin:{name}_changelist")
        assert url in technical and url not in data, name
    assert "Administration technique" in technical


def test_callers_see_no_technical_table_on_the_dashboard(caller_client):
    content = caller_client.get(reverse("admin:index")).content.decode()
    assert "Personne à appeler pour l&#x27;instant" in content or "Personne à appeler" in content
    assert "technical-administration" not in content
    assert reverse("admin:alerts_alertdelivery_changelist") not in content  # they may read it, but need not
    assert reverse("admin:prospects_prospect_changelist") in content


def test_admin_pages_have_titles_for_people(staff_client):
    prospect = ProspectFactory(name="Alice Titre")
    listing = staff_client.get(reverse("admin:prospects_prospect_changelist")).content.decode()
    assert "<h1>Prospects</h1>" in listing and "Sélectionnez" not in listing
    page = staff_client.get(reverse("admin:prospects_prospect_change", args=[prospect.pk])).content.decode()
    assert "<h1>Alice Titre" in page


def test_alert_filters_are_named_in_words_a_founder_uses(staff_client):
    called = make_alert(ProspectFactory(name="Alice Called"))
    called.call = CallFactory(prospect=called.prospect)
    called.save()
    make_alert(ProspectFactory(name="Bob Waiting"))
    url = reverse("admin:alerts_alert_changelist")
    content = staff_client.get(url).content.decode()
    assert "Pas encore appelé" in content and "Son lien personnel (sûr)" in content
    assert "Non vide" not in content and "traitée par" not in content
    waiting = staff_client.get(url, {"called": "no"}).content.decode()
    assert "Bob Waiting" in waiting and "Alice Called" not in waiting


def test_the_funnel_is_nested_and_never_above_100_percent(staff_client):
    now = timezone.now()
    emailed = [ProspectFactory() for _ in range(2)]
    for p in emailed:
        EmailEventFactory(prospect=p, event="sent", occurred_at=now - timedelta(days=2))
    VisitEventFactory(prospect=emailed[0], received_at=now - timedelta(days=1))
    # Three who visited without any email event: not in "contacted", so not in "visited" either.
    for _ in range(3):
        VisitEventFactory(prospect=ProspectFactory(), received_at=now - timedelta(days=1))
    # The period before: one emailed prospect, who visited too (100 %), for the trend.
    earlier = ProspectFactory()
    EmailEventFactory(prospect=earlier, event="sent", occurred_at=now - timedelta(days=40))
    VisitEventFactory(prospect=earlier, received_at=now - timedelta(days=40))
    response = staff_client.get(reverse("backoffice-funnel"))
    steps = {s.key: s for s in response.context["funnel"].steps}
    assert (steps["contacted"].count, steps["visited"].count) == (2, 1)
    counts = [s.count for s in response.context["funnel"].steps]
    assert counts == sorted(counts, reverse=True)
    assert all(s.rate is None or s.rate <= 1 for s in response.context["funnel"].steps)
    # The chart shows the conversion between steps and its trend, not the counts again.
    content = response.content.decode()
    start = content.index('id="funnel-chart"')
    chart = content[start : content.index("</svg>", start)]
    assert "50 %" in chart and "▼ -50 pts" in chart
    assert "150 %" not in content


def test_a_lead_without_a_phone_can_still_be_reached_from_its_card(staff_client):
    make_alert(ProspectFactory(name="Eve Email", phone="", email="eve@acme.example", website="acme.example"))
    make_alert(ProspectFactory(name="Sam Site", phone="", email="", website="https://www.linkedin.com/in/sam/"))
    content = staff_client.get(reverse("backoffice-hot-leads")).content.decode()
    assert 'href="mailto:eve@acme.example"' in content and "Écrire à eve@acme.example" in content
    assert 'href="https://acme.example"' in content
    assert 'href="https://www.linkedin.com/in/sam/"' in content and "linkedin.com/in/sam" in content
    assert "Pas de numéro" not in content


def test_the_prospect_page_shows_page_views_browsers_and_phone_for_people(staff_client):
    now = timezone.now()
    prospect = ProspectFactory(phone="+33199001234")
    for seconds in (0, 15, 30, 45):
        VisitEventFactory(
            prospect=prospect,
            page_view_id="pv-people",
            event="heartbeat" if seconds else "pageview",
            received_at=now - timedelta(seconds=60 - seconds),
        )
    VisitorFactory(visitor_id="raw-visitor-id-123", prospect=prospect)
    content = staff_client.get(reverse("admin:prospects_prospect_change", args=[prospect.pk])).content.decode()
    recent = content[content.index('id="recent-activity"') :]
    assert "Battement" not in recent and "45 s sur" in recent  # one line for the page view, its reading time
    assert "Navigateur n°1" in recent
    assert "raw-visitor-id-123" in recent[recent.index("<details") :]  # kept for staff, folded
    assert "E.164" not in content and "Téléphone" in content
    links = content[content.index('id="email-links"') :]
    assert "manage.py" in links[links.index("<details") :] and "manage.py" not in links[: links.index("<details")]


def test_unmatched_visitors_are_numbered_browsers_with_their_raw_id_folded(staff_client):
    now = timezone.now()
    for minutes in (5, 3):
        VisitEventFactory(
            visitor_id="anon-raw-0001", page_view_id="pv-raw1", received_at=now - timedelta(minutes=minutes)
        )
    content = staff_client.get(reverse("backoffice-unmatched")).content.decode()
    card = content[content.index('data-visitor="anon-raw-0001"') :]
    assert "Navigateur n°1" in card
    assert "anon-raw-0001" in card[card.index("<details") :]
