"""The admin login throttle fits the network (issue 18, point 4): one ceiling per IPv4 address or IPv6
/64 and one per account name, counted only for POSTs that passed CSRF."""

from datetime import UTC, datetime, timedelta

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


# --- Issue 29, point 3: nobody can lock the founder out -------------------------------------------

PASSWORD = "right-password-for-tests-only"


@pytest.fixture
def founder(django_user_model):
    return django_user_model.objects.create_superuser("admin", "admin@example.com", PASSWORD)


def sign_in(client: Client, *, ip: str, password: str = PASSWORD, username: str = "admin"):
    return client.post(reverse("admin:login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def sign_out(browser: Client) -> None:
    """A new session in the same browser (Client.logout() would also forget every cookie)."""
    del browser.cookies["sessionid"]


@override_settings(ADMIN_LOGIN_RATE_LIMIT="3/m")
def test_successful_sign_ins_are_not_counted_failures_are(founder):
    """Measured on main before: the fourth right password within the minute got 429."""
    codes = []
    for _ in range(5):
        browser = Client()
        codes.append(sign_in(browser, ip="198.51.100.20").status_code)
    assert codes == [302] * 5
    failures = [sign_in(Client(), ip="198.51.100.20", password="wrong").status_code for _ in range(4)]
    assert failures == [200, 200, 200, 429]


@override_settings(ADMIN_LOGIN_RATE_LIMIT="10/m")
def test_an_attacker_guessing_admin_from_elsewhere_does_not_keep_the_founders_browser_out(founder):
    """Measured on main before: ten POSTs a minute for "admin" from another address kept the founder out
    (429) for as long as they went on."""
    browser = Client()
    assert sign_in(browser, ip="198.51.100.30").status_code == 302  # signed in before: a device cookie
    sign_out(browser)
    attacker = Client()
    for minute in range(3):
        with time_machine.travel(datetime(2026, 11, 24, 10, minute, 30, tzinfo=UTC), tick=False):
            guesses = [sign_in(attacker, ip="203.0.113.66", password=f"guess{n}").status_code for n in range(11)]
            assert guesses == [200] * 10 + [429]
            assert sign_in(browser, ip="198.51.100.30").status_code == 302
            sign_out(browser)
    assert browser.cookies["arkwatch_device"]["httponly"]


@override_settings(ADMIN_LOGIN_RATE_LIMIT="10/m")
def test_a_new_browser_is_told_when_to_retry_and_gets_in_then(founder):
    attacker = Client()
    for n in range(10):
        sign_in(attacker, ip="203.0.113.66", password=f"guess{n}")
    refused = sign_in(Client(), ip="198.51.100.40")
    assert refused.status_code == 429
    wait = int(refused["Retry-After"])
    assert 0 < wait <= 60 and f"réessayez dans {wait} s" in refused.content.decode()
    with time_machine.travel(datetime(2026, 11, 24, 10, 0, 30, tzinfo=UTC) + timedelta(seconds=wait), tick=False):
        assert sign_in(Client(), ip="198.51.100.40").status_code == 302


@override_settings(ADMIN_LOGIN_RATE_LIMIT="2/m")
def test_a_refusal_in_the_last_second_of_its_window_says_one_second(client):
    """Half a second before the minute's window ends, the page and the header say 1 s, not more."""
    with time_machine.travel(datetime(2026, 11, 24, 10, 0, 59, 500000, tzinfo=UTC), tick=False):
        for _ in range(2):
            attempt(client, ip="198.51.100.41", username="boss")
        refused = client.post(
            reverse("admin:login"), {"username": "boss", "password": "guess"}, REMOTE_ADDR="198.51.100.41"
        )
    assert refused.status_code == 429 and refused["Retry-After"] == "1"
    assert "réessayez dans 1 s." in refused.content.decode()


@override_settings(ADMIN_LOGIN_RATE_LIMIT="3/m")
def test_a_device_cookie_is_for_its_own_account_and_its_own_guesses_count(founder, django_user_model):
    django_user_model.objects.create_superuser("alice", "alice@example.com", PASSWORD)
    browser = Client()
    assert sign_in(browser, ip="198.51.100.50", username="alice").status_code == 302
    sign_out(browser)
    for n in range(3):
        sign_in(Client(), ip=f"203.0.113.{n + 1}", password="wrong")
    # Alice's browser is known for alice, not for admin: admin's limit applies.
    assert sign_in(browser, ip="198.51.100.50").status_code == 429
    # A known browser guessing its own account is slowed down like anyone.
    codes = [sign_in(browser, ip="198.51.100.50", username="alice", password="wrong").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    # A forged device cookie is no device cookie.
    stranger = Client()
    stranger.cookies["arkwatch_device"] = "forged"
    assert sign_in(stranger, ip="203.0.113.99").status_code == 429
