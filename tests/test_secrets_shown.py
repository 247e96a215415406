"""Issue 29, points 5 and 6: what a Caller (who sees prospects, alerts and deliveries, and changes
nothing) must not read.

5. An alert channel's secrets: an ntfy topic, a token in a webhook's path or user part. Deliveries name
   a channel by its scheme and host only, on the delivery list and page, the alert page and hot leads.
6. A prospect's `ak` and freshly minted pixel and tracked link: holding them is what makes a signal
   "verified", and minting one needs the right to change prospects (backoffice/mail_merge.py).
"""

import pytest
from django.urls import reverse

from alerts.outbox.channels import channel_label
from alerts.outbox.models import AlertDelivery
from tests.factories import AlertDeliveryFactory, AlertFactory, CtaClickFactory, ProspectFactory, VisitEventFactory
from tests.test_backoffice import caller_client  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

NTFY_TOPIC = "founder-leads-7f3k9q"
HOOK_TOKEN = "hk_4f9a0c2e7b1d"


@pytest.mark.parametrize(
    "url, shown",
    [
        (f"ntfy://ntfy.sh/{NTFY_TOPIC}", "ntfy://ntfy.sh"),
        (f"ntfys://alerts:{HOOK_TOKEN}@ntfy.example.com/{NTFY_TOPIC}", "ntfys://ntfy.example.com"),
        (f"ntfy://{NTFY_TOPIC}", "ntfys://…"),  # ntfy.sh's short form: the topic stands where a host would
        (f"json://hooks.example.com/arkwatch/{HOOK_TOKEN}?x=1", "json://hooks.example.com"),
        (f"jsons://hooks.example.com:8443/{HOOK_TOKEN}", "jsons://hooks.example.com"),
        ("tgram://123456789:AAH4secretbottoken/987654321", "tgram://…"),
    ],
)
def test_a_channel_is_named_by_its_scheme_and_host_only(url, shown):
    assert channel_label(url) == shown


@pytest.fixture
def channel_delivery():
    """A channel delivery whose label was stored the way the previous version stored it (Apprise's
    privacy form, which keeps a topic and a path): pages must still not show them."""
    alert = AlertFactory(prospect=ProspectFactory(name="Alice Martin"))
    AlertDeliveryFactory(alert=alert)  # its SMS
    return AlertDeliveryFactory(
        alert=alert,
        channel=AlertDelivery.Channel.APPRISE,
        recipient="apprise:0123456789abcdef0123456789abcdef",
        label=f"ntfy://ntfy.sh/{NTFY_TOPIC}",
    )


def test_a_caller_reads_no_channel_secret_on_any_page(caller_client, channel_delivery):  # noqa: F811
    pages = [
        reverse("admin:alerts_alertdelivery_changelist"),
        reverse("admin:alerts_alertdelivery_change", args=[channel_delivery.pk]),
        reverse("admin:alerts_alert_change", args=[channel_delivery.alert_id]),
        reverse("backoffice-hot-leads"),
    ]
    for url in pages:
        response = caller_client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert NTFY_TOPIC not in page, url
        assert "ntfy://ntfy.sh" in page, url
        assert "0123456789abcdef0123456789abcdef" not in page, url


# --- 6. The identity token and the links that carry it ------------------------------------------


@pytest.fixture
def prospect_with_events():
    prospect = ProspectFactory(name="Alice Martin", email="alice@acme-corp.example")
    visit = VisitEventFactory(prospect=prospect, ak=prospect.identity_token)
    click = CtaClickFactory(prospect=prospect, ak=prospect.identity_token)
    return prospect, visit, click


def _pages(prospect, visit, click) -> list[str]:
    return [
        reverse("backoffice-timeline", args=[prospect.pk]),
        reverse("admin:prospects_prospect_change", args=[prospect.pk]),
        reverse("admin:tracking_visitevent_change", args=[visit.pk]),
        reverse("admin:tracking_ctaclick_change", args=[click.pk]),
    ]


def test_a_caller_reads_no_identity_token_nor_a_minted_link(caller_client, prospect_with_events):  # noqa: F811
    prospect, visit, click = prospect_with_events
    for url in _pages(prospect, visit, click):
        response = caller_client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert prospect.identity_token not in page, url
        assert "/t/o/" not in page and "/t/c/" not in page, url
    # Still the prospect's page: who, and their activity.
    assert "Alice Martin" in caller_client.get(_pages(prospect, visit, click)[0]).content.decode()


def test_who_may_change_prospects_still_gets_the_token_and_the_links(staff_client, prospect_with_events):
    prospect, visit, click = prospect_with_events
    timeline, prospect_page, visit_page, click_page = (
        staff_client.get(url).content.decode() for url in _pages(prospect, visit, click)
    )
    for page in (timeline, prospect_page):
        assert prospect.identity_token in page and "/t/o/" in page and "/t/c/" in page
    assert prospect.identity_token in visit_page and prospect.identity_token in click_page
