"""Issue 29, point 7: whoever knows a prospect's email could put 40 characters of their own into the
founder's SMS, as the page of a claimed long read ("Lu 100 s sur /URGENT-rappeler-le-0899-…"). An
unverified alert names no page but the configured landing page; a verified one (the prospect's own
link) still names the page read."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.cycle import detection_cycle_run
from alerts.outbox import sms
from alerts.outbox.composer import compose_alert_rich
from alerts.outbox.models import Alert
from tests.factories import ProspectFactory, VisitEventFactory, VisitorFactory
from tracking.models import MatchMethod

pytestmark = pytest.mark.django_db

FORGED_PAGE = "/URGENT-rappeler-le-0899-123456-code-7731"


@pytest.fixture(autouse=True)
def _landing(settings):
    settings.PUBLIC_BASE_URL = "https://track.example.com"
    settings.LANDING_PAGE_URL = "https://www.example.com/audit-gratuit-monitoring.html"
    settings.TRACKING_ALLOWED_ORIGINS = ["https://www.example.com"]
    settings.TRACKING_LINK_HOSTS = []


def long_read(prospect, *, page: str, verified: bool) -> None:
    visitor = f"visitor-{'ak' if verified else 'claim'}-{abs(hash(page)) % 10**6}"
    if verified:
        VisitorFactory(visitor_id=visitor, prospect=prospect)
    else:
        VisitorFactory(
            visitor_id=visitor,
            prospect=prospect,
            match_method=MatchMethod.EMAIL,
            match_evidence={"email": prospect.email},
        )
    start = timezone.now() - timedelta(seconds=130)
    for offset in range(0, 121, 15):
        VisitEventFactory(
            visitor_id=visitor,
            page_view_id=f"pv-{visitor}",
            page=page,
            event="pageview" if offset == 0 else "heartbeat",
            received_at=start + timedelta(seconds=offset),
            ak=prospect.identity_token if verified else "",
        )


@pytest.mark.parametrize(
    "page",
    [FORGED_PAGE, "https://www.example.com" + FORGED_PAGE, "https://evil.example" + FORGED_PAGE],
    ids=["a path", "a URL on the landing host", "a URL elsewhere"],
)
def test_an_unverified_long_read_names_no_page_of_the_visitors_choosing(run_on_commit, settings, page):
    settings.ALERT_CHANNELS = []
    prospect = ProspectFactory(name="Alice Martin", email="alice@acme-corp.example", phone="+33199001234")
    long_read(prospect, page=page, verified=False)
    run_on_commit(detection_cycle_run)
    alert = Alert.objects.get()
    assert alert.identification == "unverified"
    assert len(sms.outbox) == 1
    text = sms.outbox[0].body
    assert "URGENT" not in text and "0899" not in text, text
    assert "non vérifié" in text and "Alice Martin" in text
    title, body = compose_alert_rich(alert=alert)
    assert "URGENT" not in title + body and "0899" not in title + body
    assert "URGENT" not in alert.evidence_sentence


@pytest.mark.parametrize(
    "page",
    ["/audit-gratuit-monitoring.html", "https://www.example.com/audit-gratuit-monitoring.html?utm_source=x"],
    ids=["its path", "its URL"],
)
def test_an_unverified_read_of_the_landing_page_names_it(run_on_commit, page):
    prospect = ProspectFactory(name="Alice Martin", email="alice@acme-corp.example", phone="+33199001234")
    long_read(prospect, page=page, verified=False)
    run_on_commit(detection_cycle_run)
    assert "/audit-gratuit-monitoring.html" in sms.outbox[0].body


def test_a_verified_long_read_still_names_the_page_read(run_on_commit):
    prospect = ProspectFactory(name="Alice Martin", email="alice@acme-corp.example", phone="+33199001234")
    long_read(prospect, page="/tarifs-equipe.html", verified=True)
    run_on_commit(detection_cycle_run)
    assert "/tarifs-equipe.html" in sms.outbox[0].body and "non vérifié" not in sms.outbox[0].body
