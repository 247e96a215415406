from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from alerts.outbox.models import Alert
from tests.factories import (
    AlertDeliveryFactory,
    AlertFactory,
    CtaClickFactory,
    DetectionRunFactory,
    EmailEventFactory,
    ProspectFactory,
    VisitEventFactory,
    VisitorFactory,
)
from tracking.models import Meeting, Visitor

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "prospects_prospect",
    "tracking_visitevent",
    "tracking_ctaclick",
    "tracking_emailevent",
    "tracking_visitor",
    "alerts_alert",
    "alerts_detectionrun",
]


@pytest.fixture
def some_data():
    prospect = ProspectFactory()
    VisitEventFactory(prospect=prospect)
    CtaClickFactory(prospect=prospect)
    EmailEventFactory(prospect=prospect)
    VisitorFactory(visitor_id="visitor-abc", prospect=prospect)
    alert = AlertFactory(prospect=prospect, occurred_at=prospect.created_at, message="hello")
    AlertDeliveryFactory(alert=alert, recipient="+33199001234")
    DetectionRunFactory()
    return prospect, alert


@pytest.mark.parametrize("name", CHANGELISTS)
def test_every_changelist_renders_for_staff(staff_client, some_data, name):
    response = staff_client.get(reverse(f"admin:{name}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("name", CHANGELISTS)
def test_anonymous_users_are_sent_to_the_login_page(client, name):
    response = client.get(reverse(f"admin:{name}_changelist"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_prospect_page_shows_its_events_alerts_and_email_links(staff_client, some_data):
    prospect, _alert = some_data
    response = staff_client.get(reverse("admin:prospects_prospect_change", args=[prospect.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert prospect.identity_token in content
    # the raw token is for staff who look for it: folded under "Détails techniques", not on the page's face
    before_token = content[: content.index(prospect.identity_token)]
    assert before_token.rfind("<details") > before_token.rfind("</details>")
    assert "/t/o/" in content and "/t/c/" in content
    assert "Réserver audit" in content and "cta_reserver_audit" not in content  # the CTA's label, not its id
    assert "visitor-abc" in content


def test_change_pages_render_for_staff(staff_client, some_data):
    prospect, alert = some_data
    for url in [
        reverse("admin:alerts_alert_change", args=[alert.pk]),
        reverse("admin:tracking_visitor_change", args=[Visitor.objects.get().pk]),
        reverse("admin:prospects_prospect_add"),
        reverse("admin:prospects_prospect_import"),
        reverse("admin:index"),
    ]:
        assert staff_client.get(url).status_code == 200, url


def test_events_are_read_only_evidence(staff_client, some_data):
    prospect, _ = some_data
    event = prospect.visitevent_set.get()
    response = staff_client.post(reverse("admin:tracking_visitevent_delete", args=[event.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert prospect.visitevent_set.count() == 1


def test_the_admin_upload_imports_through_the_same_code(staff_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("p.csv", b"email,name\nnew@new-co.example,New\nbroken,X\n", content_type="text/csv")
    response = staff_client.post(reverse("admin:prospects_prospect_import"), {"file": upload}, follow=True)
    content = response.content.decode()
    assert response.status_code == 200
    assert "1 créé(s), 0 mis à jour" in content
    assert ">3<" in content  # the bad row's line
    from prospects.models import Prospect

    assert Prospect.objects.filter(email="new@new-co.example").exists()


def test_bulk_actions_set_the_status(staff_client):
    a, b = ProspectFactory(), ProspectFactory()
    staff_client.post(
        reverse("admin:prospects_prospect_changelist"),
        {"action": "mark_do_not_contact", "_selected_action": [a.pk, b.pk]},
    )
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.status == b.status == "do_not_contact"


def test_linking_a_visitor_by_hand_attributes_its_events(staff_client):
    prospect = ProspectFactory()
    visitor = VisitorFactory(visitor_id="anon-visitor-1")
    VisitEventFactory(visitor_id="anon-visitor-1")
    url = reverse("admin:tracking_visitor_change", args=[visitor.pk])
    response = staff_client.post(url, {"prospect": prospect.pk})
    assert response.status_code == 302
    visitor.refresh_from_db()
    assert visitor.prospect == prospect and visitor.match_method == "manual"
    assert visitor.matched_by == staff_client.user  # the admin shows who linked it
    assert prospect.visitevent_set.count() == 1


@time_machine.travel(datetime(2026, 11, 24, 10, 0, 30, tzinfo=UTC), tick=False)  # one rate window, fixed
def test_admin_login_is_throttled_per_address(client):
    codes = [
        client.post(
            reverse("admin:login"), {"username": "x", "password": f"guess{n}"}, REMOTE_ADDR="203.0.113.50"
        ).status_code
        for n in range(12)
    ]
    assert codes[:10] == [200] * 10 and codes[10:] == [429, 429]
    other = client.post(reverse("admin:login"), {"username": "y", "password": "y"}, REMOTE_ADDR="203.0.113.51")
    assert other.status_code == 200


def test_alerts_are_evidence_even_for_superusers(staff_client, some_data):
    _prospect, alert = some_data
    before = Alert.objects.get(pk=alert.pk)
    response = staff_client.post(
        reverse("admin:alerts_alert_change", args=[alert.pk]), {"status": "sent", "message": "edited by hand"}
    )
    assert response.status_code == 403
    alert.refresh_from_db()
    assert (alert.status, alert.message) == (before.status, before.message)


def test_meetings_are_listed_searchable_by_prospect_and_read_only(staff_client):
    def meeting(prospect, uid, status):
        now = timezone.now()
        return Meeting.objects.create(
            prospect=prospect,
            tool="calcom",
            external_id=uid,
            starts_at=now + timedelta(days=1),
            status=status,
            match_method="ak",
            booked_at=now,
        )

    booked = meeting(ProspectFactory(name="Jean Dupont", company="Acme"), "bk-1", Meeting.Status.BOOKED)
    meeting(ProspectFactory(name="Marie Curie", company="Beta"), "bk-2", Meeting.Status.NO_SHOW)
    url = reverse("admin:tracking_meeting_changelist")
    page = staff_client.get(url).content.decode()
    # French labels, as the rest of the admin: the booking tool, the start, the status.
    assert "Jean Dupont" in page and "Marie Curie" in page
    assert "outil de réservation" in page and "début" in page and "Réservé" in page and "Absent" in page
    found = staff_client.get(url, {"q": "dupont"}).content.decode()
    assert "Jean Dupont" in found and "Marie Curie" not in found
    filtered = staff_client.get(url, {"status__exact": "no_show"}).content.decode()
    assert "Marie Curie" in filtered and "Jean Dupont" not in filtered
    change = staff_client.get(reverse("admin:tracking_meeting_change", args=[booked.pk])).content.decode()
    assert "vérifié" in change and 'name="status"' not in change  # the booking tool's word, not edited here
    assert staff_client.get(reverse("admin:tracking_meeting_add")).status_code == 403


def test_a_meeting_is_named_by_its_local_time(staff_client):
    """The meeting's page title (and the admin's messages naming it) say the time the founder will meet
    at, in TIME_ZONE: 10:00 in Paris, not 09:00 UTC."""
    start = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    meeting = Meeting.objects.create(
        prospect=ProspectFactory(),
        tool="calcom",
        external_id="bk-local",
        starts_at=start,
        match_method="ak",
        booked_at=start - timedelta(days=1),
    )
    assert str(meeting) == "Cal.com 8 décembre 2026 10:00 (Réservé)"
    page = staff_client.get(reverse("admin:tracking_meeting_change", args=[meeting.pk])).content.decode()
    assert "<title>Cal.com 8 décembre 2026 10:00 (Réservé) | ArkWatch</title>" in page
