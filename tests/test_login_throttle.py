"""The admin login throttle fits the network (issue 18, point 4): one ceiling per IPv4 address or IPv6
/64 and one per account name, counted only for POSTs that passed CSRF."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client, override_settings
from django.urls import reverse

pytestmark = [
    pytest.mark.django_db,
    # One rate window, whatever minute the suite runs in.
    pytest.mark.usefixtures("one_window"),
]


@pytest.fixture
def one_window():
    with time_machine.travel(datetime(2026, 11, 24, 10, 0, 30, tzinfo=UTC), tick=False):
        yield


def attempt(client: Client, *, ip: str, username: str) -> int:
    return client.post(reverse("admin:login"), {"username": username, "password": "guess"}, REMOTE_ADDR=ip).status_code


@override_settings(ADMIN_LOGIN_RATE_LIMIT="5/m")
def test_five_addresses_of_one_ipv6_64_share_one_ceiling(client):
    """Measured on main before: five addresses of one /64 got five tries each, without end."""
    codes = [
        attempt(client, ip=f"2001:db8:aa:bb:{host:x}::1", username=f"user{host}{n}")
        for host in range(1, 6)
        for n in range(5)
    ]
    assert codes[:5] == [200] * 5 and codes[5:] == [429] * 20
    # Another subscriber's /64 is not affected.
    assert attempt(client, ip="2001:db8:aa:bc::1", username="someone") == 200


@override_settings(ADMIN_LOGIN_RATE_LIMIT="5/m")
def test_one_account_name_gets_the_ceiling_however_many_networks_try_it(client):
    codes = [attempt(client, ip=f"198.51.100.{n}", username="Boss") for n in range(1, 9)]
    assert codes == [200] * 5 + [429] * 3
    assert attempt(client, ip="198.51.100.99", username="other") == 200


@override_settings(ADMIN_LOGIN_RATE_LIMIT="3/m")
def test_posts_without_a_csrf_token_do_not_count():
    """Ten forged POSTs (no token) get 403 and spend nothing: the staff member who then loads the form
    still has all their tries."""
    browser = Client(enforce_csrf_checks=True)
    forged = [attempt(browser, ip="203.0.113.50", username="boss") for _ in range(10)]
    assert forged == [403] * 10
    browser.get(reverse("admin:login"), REMOTE_ADDR="203.0.113.50")
    token = browser.cookies["csrftoken"].value
    real = [
        browser.post(
            reverse("admin:login"),
            {"username": "boss", "password": "guess", "csrfmiddlewaretoken": token},
            REMOTE_ADDR="203.0.113.50",
        ).status_code
        for _ in range(4)
    ]
    assert real == [200, 200, 200, 429]
