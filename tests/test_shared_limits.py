"""Limits every process shares, in the store beside the database (core/ratelimit.py: an LMDB file
beside SQLite, the core_sharedcounter table on PostgreSQL), and with Redis down.

In-process tests for the rules, run against every store this database can use; the end of the file
starts gunicorn with 3 workers and no Redis, and counts what a client sees across processes."""

import hashlib
import hmac
import json
import re
import socket
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from unittest import mock

import lmdb
import pytest
import requests
import time_machine
from django.db import DatabaseError, connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django_q.models import OrmQ

from alerts.signals.dwell import forget_page_views, page_view_crossed_threshold
from bench.processes import database_url, product_env, running
from core import lmdb_counters, ratelimit
from core.models import SharedCounter
from core.shared_redis import forget_redis
from tests.factories import BROWSER_UA
from tracking.models import VisitEvent

CLOSED_REDIS = "redis://127.0.0.1:1/4"  # nothing listens on port 1


def visit(visitor: str, n: int = 0) -> dict:
    return {
        "visitor_id": visitor,
        "page_view_id": f"pv-{visitor}",
        "page": "/audit",
        "event": "heartbeat",
        "engaged_ms": n * 15000,
    }


def post(client, body: dict, ip: str = "198.51.100.23"):
    return client.post(
        "/api/track/visit", data=json.dumps(body), content_type="text/plain", HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR=ip
    )


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    """All requests of a test fall in one rate-limit window, whatever minute it runs."""
    with time_machine.travel("2026-03-02 10:00:05 +00:00", tick=False):
        yield


@contextmanager
def redis_at(url: str) -> Iterator[None]:
    """REDIS_URL is `url` for the block; the process forgets its Redis client on the way in and out."""
    forget_redis()
    try:
        with override_settings(REDIS_URL=url):
            yield
    finally:
        forget_redis()


@pytest.fixture
def redis_down() -> Iterator[None]:
    """REDIS_URL points at a closed port, as when the Redis server is stopped."""
    with redis_at(CLOSED_REDIS):
        yield


@pytest.fixture
def store() -> Iterator[str]:
    """The store this database's deployment counts in (whatever REDIS_URL says); the test checks that
    it did the counting."""
    name = "lmdb" if connection.vendor == "sqlite" else "database"
    yield name
    assert counted_in(name)


def counted_in(store: str) -> bool:
    if store == "database":
        return SharedCounter.objects.filter(key__startswith="arkwatch:rl:").exists()
    with lmdb.open(str(lmdb_counters.counters_path()), readonly=True, lock=False) as env:
        return env.stat()["entries"] > 0


def stored_keys() -> list[str]:
    """Every key of this deployment's counters store, as text."""
    if connection.vendor != "sqlite":
        return list(SharedCounter.objects.values_list("key", flat=True))
    if not lmdb_counters.counters_path().exists():
        return []
    with lmdb.open(str(lmdb_counters.counters_path()), readonly=True, lock=False) as env, env.begin() as txn:
        return [key.decode() for key, _value in txn.cursor()]


@pytest.mark.django_db
def test_counter_keys_hold_a_keyed_hash_never_the_address(client, store):
    post(client, visit("reader-v4"), ip="198.51.100.23")
    post(client, visit("reader-v6"), ip="2001:db8:1:2::5")
    keys = stored_keys()
    assert keys and all(key.startswith("arkwatch:") for key in keys)
    assert not [key for key in keys if "198.51.100" in key or "2001:db8" in key or "reader-v" in key]
    assert any(key.startswith("arkwatch:rl:c:") for key in keys)  # the kind stays readable


@pytest.mark.django_db
def test_expired_counters_are_gone_within_a_minute_of_their_window(client, store):
    post(client, visit("reader-early"), ip="198.51.100.23")
    before = set(stored_keys())
    # Two windows later, the next request of anyone deletes the expired keys (not one in 1,000).
    with time_machine.travel("2026-03-02 10:02:10 +00:00", tick=False):
        post(client, visit("reader-late"), ip="192.0.2.10")
        after = set(stored_keys())
    assert before and not before & after


@pytest.mark.django_db
def test_the_scheduled_purge_forgets_expired_counters_without_traffic(client, store):
    post(client, visit("reader-quiet"), ip="198.51.100.23")
    with time_machine.travel("2026-03-02 10:02:10 +00:00", tick=False):
        ratelimit.purge_expired_counters()
    assert not [key for key in stored_keys() if key.startswith("arkwatch:rl:")]
    post(client, visit("reader-quiet"), ip="198.51.100.23")  # the store fixture checks a count happened


@pytest.mark.django_db
def test_an_office_of_100_readers_behind_one_ip_loses_nothing_at_the_default_limits(client, store):
    # A pageview and four heartbeats each: a minute of reading for 100 colleagues behind one NAT.
    codes = [
        post(client, visit(f"office-reader-{r:03d}", n), ip="203.0.113.50").status_code
        for n in range(5)
        for r in range(100)
    ]
    assert codes.count(202) == 500
    assert VisitEvent.objects.count() == 500


@pytest.mark.django_db
@override_settings(TRACKING_RATE_LIMIT="5/m", TRACKING_NETWORK_RATE_LIMIT="12/m")
def test_a_flooding_reader_is_stopped_without_starving_its_colleagues(client, store):
    flood = [post(client, visit("flooding-reader"), ip="203.0.113.50").status_code for _ in range(30)]
    assert flood == [202] * 5 + [429] * 25
    # The flood's refused requests did not eat the network's ceiling: a colleague still gets through.
    assert post(client, visit("quiet-colleague"), ip="203.0.113.50").status_code == 202


@pytest.mark.django_db
@override_settings(TRACKING_RATE_LIMIT="5/m", TRACKING_NETWORK_RATE_LIMIT="12/m")
def test_rotating_visitor_ids_hits_the_network_ceiling(client, store):
    codes = [post(client, visit(f"rotating-{n:04d}"), ip="203.0.113.60").status_code for n in range(20)]
    assert codes == [202] * 12 + [429] * 8
    assert post(client, visit("elsewhere-1"), ip="192.0.2.10").status_code == 202


@pytest.mark.django_db
@override_settings(TRACKING_NETWORK_RATE_LIMIT="3/m")
def test_ipv6_clients_of_one_subscriber_share_a_ceiling(client, store):
    codes = [post(client, visit(f"v6-reader-{n}"), ip=f"2001:db8:1:2::{n + 1:x}").status_code for n in range(5)]
    assert codes == [202, 202, 202, 429, 429]


@pytest.mark.django_db
@override_settings(TRACKING_RATE_LIMIT="3/m")
def test_with_redis_down_events_are_accepted_and_the_limit_still_holds(client, redis_down):
    codes = [post(client, visit("reader-redis-down")).status_code for _ in range(5)]
    assert codes == [202, 202, 202, 429, 429]
    assert VisitEvent.objects.count() == 3


@pytest.mark.django_db
@override_settings(TRACKING_RATE_LIMIT="3/m")
def test_a_refused_event_is_not_stored_and_the_next_window_opens_again(client, store):
    codes = [post(client, visit("reader-windows")).status_code for _ in range(5)]
    with time_machine.travel("2026-03-02 10:01:01 +00:00", tick=False):
        codes.append(post(client, visit("reader-windows")).status_code)
    assert codes == [202, 202, 202, 429, 429, 202]
    assert VisitEvent.objects.count() == 4


@pytest.mark.django_db
def test_a_counter_store_that_cannot_be_written_lets_requests_through():
    # Events are the asset: a broken counters file or table must not turn readers away.
    if connection.vendor == "sqlite":
        broken = mock.patch("core.lmdb_counters._environment", side_effect=lmdb.Error("No space left on device"))
    else:
        broken = mock.patch("core.db_counters.count_hits", side_effect=DatabaseError("counter table unavailable"))
    with broken:
        assert [ratelimit.rate_limited(("c:x", "1/m")) for _ in range(3)] == [False, False, False]


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite counts in its LMDB file")
@override_settings(TRACKING_RATE_LIMIT="3/m")
def test_events_are_stored_when_the_counter_table_cannot_be_written(client):
    # The counters and the event are one statement: when it fails, the event is stored uncounted.
    with mock.patch("core.db_counters.counted_insert", side_effect=DatabaseError("counter table unavailable")):
        codes = [post(client, visit("reader-no-counters")).status_code for _ in range(5)]
    assert codes == [202] * 5
    assert VisitEvent.objects.count() == 5


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the LMDB file is SQLite's store")
@override_settings(TRACKING_RATE_LIMIT="3/m")
def test_events_are_stored_when_the_counters_file_cannot_be_written(client):
    with mock.patch("core.lmdb_counters._environment", side_effect=lmdb.Error("No space left on device")):
        codes = [post(client, visit("reader-no-counters")).status_code for _ in range(5)]
    assert codes == [202] * 5
    assert VisitEvent.objects.count() == 5


@pytest.mark.django_db
def test_healthz_is_503_with_the_reason_when_redis_is_stopped(client, redis_down):
    response = client.get("/healthz")
    assert response.status_code == 503 and "redis_unreachable" in response.json()["reasons"]
    # The operator's monitor (the API key) reads the detail.
    assert client.get("/healthz", HTTP_AUTHORIZATION="Bearer test-api-key").json()["redis"] == "unreachable"


@pytest.mark.django_db
def test_a_claim_is_given_once_until_it_expires():
    assert [ratelimit.claim_once("pv-crossed:x", 60) for _ in range(3)] == [True, False, False]
    with time_machine.travel("2026-03-02 10:01:06 +00:00", tick=False):
        assert ratelimit.claim_once("pv-crossed:x", 60) is True


# --- Three real web processes on SQLite, no Redis ----------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def three_workers(tmp_path) -> Iterator[list[str]]:
    """Three web processes on one database, no Redis: three gunicorns of one worker each, on their
    own ports, so that a test decides which process answers each request (one gunicorn with three
    workers hands sequential connections to whichever worker waits in accept(), often the same)."""
    env = product_env(
        DATABASE_URL=database_url(connection.settings_dict),
        REDIS_URL="",
        # Hourly windows: a test of a few seconds does not straddle a window's end by bad luck.
        TRACKING_RATE_LIMIT="10/h",
        TRACKING_NETWORK_RATE_LIMIT="15/h",
        ADMIN_LOGIN_RATE_LIMIT="5/h",
        SIGNAL_DWELL_SECONDS="0",
        LOG_LEVEL="WARNING",
    )
    urls = [f"http://127.0.0.1:{free_port()}" for _ in range(3)]

    def ready(url: str) -> bool:
        try:
            return requests.get(f"{url}/healthz", timeout=1).status_code in (200, 503)
        except requests.RequestException:
            return False

    with ExitStack() as stack:
        for n, url in enumerate(urls):
            address = url.removeprefix("http://")
            cmd = [sys.executable, "-m", "gunicorn", "arkwatch.wsgi", "-b", address, "--workers", "1"]
            stack.enter_context(running(cmd, env, tmp_path / f"gunicorn-{n}.log"))
        deadline = time.monotonic() + 30
        while not all(ready(url) for url in urls):
            assert time.monotonic() < deadline, "the three web processes did not start"
            time.sleep(0.1)
        yield urls


def csrf_login(url: str, *, username: str) -> int:
    """A login attempt as a browser makes it: the form first (its CSRF cookie and token), then the POST."""
    with requests.Session() as session:
        form = session.get(f"{url}/admin/login/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        assert token, form.text[:500]
        data = {"username": username, "password": "guess", "csrfmiddlewaretoken": token.group(1)}
        return session.post(f"{url}/admin/login/", data=data, timeout=10).status_code


def spread(urls: list[str], path: str, bodies: list[dict], **headers: str) -> list[int]:
    """Request n goes to process n % 3."""
    return [
        requests.post(
            f"{urls[n % len(urls)]}{path}",
            data=json.dumps(body),
            timeout=10,
            headers={"Content-Type": "text/plain", "User-Agent": BROWSER_UA, **headers},
        ).status_code
        for n, body in enumerate(bodies)
    ]


@pytest.mark.django_db(transaction=True)
def test_limits_are_exact_across_three_web_processes_without_redis(three_workers):
    urls = three_workers
    # Per reader: 10 an hour, whichever process answers.
    assert spread(urls, "/api/track/visit", [visit("one-reader")] * 24).count(202) == 10
    # Per network: 15 an hour; the reader's 14 refused requests did not count against it.
    rotating = spread(urls, "/api/track/visit", [visit(f"rotating-{n:03d}") for n in range(24)])
    assert rotating.count(202) == 5  # the network had used 10 of its 15 for "one-reader"
    # The admin login throttle: 5 attempts an hour, then 429, whichever process answers. A POST
    # without a CSRF token fails on CSRF first (403) and spends nothing of the ceiling.
    assert requests.post(f"{urls[0]}/admin/login/", data={"username": "a"}, timeout=10).status_code == 403
    logins = [csrf_login(urls[n % 3], username="a") for n in range(12)]
    assert logins.count(429) == 7 and logins.count(200) == 5


@pytest.mark.django_db(transaction=True)
def test_the_dwell_crossing_is_claimed_once_across_three_web_processes(three_workers):
    # Threshold 0: the page view's first event crosses; the five after it, in any process, must not.
    events = [{**visit("dwell-reader", n), "event": "pageview" if n == 0 else "heartbeat"} for n in range(6)]
    assert spread(three_workers, "/api/track/visit", events) == [202] * 6
    # The receiver queues in the request, after its commit: the task is there when the answer is.
    assert OrmQ.objects.count() == 1


@pytest.mark.django_db
def test_the_heartbeat_that_crosses_the_dwell_threshold_fires_once_whichever_process_gets_it(client):
    start = time.time()

    def arrive(n: int, seconds: float) -> bool:
        """One event, stored, then the seam's check as a web process that saw none of the others would run it."""
        with time_machine.travel(start + seconds, tick=False):
            event = "pageview" if n == 0 else "heartbeat"
            assert post(client, {**visit("reader-dwell", n), "event": event}).status_code == 202
            forget_page_views()
            return page_view_crossed_threshold("pv-reader-dwell", VisitEvent.objects.latest("id").received_at)

    assert [arrive(0, 0), arrive(1, 15), arrive(2, 60), arrive(3, 91), arrive(4, 105)] == [
        False,
        False,
        False,
        True,
        False,
    ]


@pytest.mark.django_db
def test_a_crossed_page_view_asks_the_shared_store_once_per_process(client, run_on_commit):
    # A page left open sends a heartbeat every 15 s for as long as it stays open: after the crossing,
    # those heartbeats must not each pay a round trip to the shared claim.
    start = time.time()
    with mock.patch("alerts.signals.dwell.claim", wraps=ratelimit.claim) as claims:
        for n, seconds in enumerate([0, 15, 45, 91, 105, 120, 135, 150]):
            with time_machine.travel(start + seconds, tick=False):
                event = "pageview" if n == 0 else "heartbeat"
                assert run_on_commit(post, client, {**visit("reader-long-read", n), "event": event}).status_code == 202
    assert claims.call_count == 1
    assert ratelimit.claim_once("pv-crossed:pv-reader-long-read", 60) is False  # that one call won it


def reads_of_stored_starts(queries: CaptureQueriesContext) -> int:
    """How many times the stored events were asked when a page view began (alerts/signals/dwell.py)."""
    return sum(q["sql"].startswith("SELECT MIN(") for q in queries.captured_queries)


def lose_shared_state(store: str) -> None:
    """What a reboot does to the LMDB file, or a crash to PostgreSQL's UNLOGGED counters table."""
    if store == "lmdb":
        lmdb_counters.clear()
    else:
        SharedCounter.objects.all().delete()


@pytest.fixture(params=["UTC", "America/New_York"])
def server_clock(request, monkeypatch):
    """The web server's own time zone: a start read back from the stored events must not depend on it."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


@pytest.mark.django_db
@pytest.mark.parametrize("stamp_lost", [False, True], ids=["stamped", "stamp-lost"])
def test_every_web_process_learns_when_a_page_view_began(client, store, run_on_commit, stamp_lost, server_clock):
    # On SQLite the pageview stamps the page view's start in the LMDB file; a web process that saw
    # none of its events reads the stamp there instead of the stored events, and one that finds no
    # stamp (the file started empty since) reads the events once and stamps them again. On
    # PostgreSQL the stored events are the record: each process reads them once, and nothing else is
    # written for it.
    start = time.time()
    reads, crossed_at = [], []
    with mock.patch("alerts.receivers.detection_enqueue") as detection:
        for n, seconds in [(0, 0), (1, 15), (2, 91), (3, 105)]:
            if n == 1 and stamp_lost:
                lose_shared_state(store)
            forget_page_views()  # each event lands on a process that saw none of the events before it
            with time_machine.travel(start + seconds, tick=False), CaptureQueriesContext(connection) as queries:
                event = {**visit("reader-start", n), "engaged_ms": seconds * 1000}
                event["event"] = "pageview" if n == 0 else "heartbeat"
                assert run_on_commit(post, client, event).status_code == 202
            reads.append(reads_of_stored_starts(queries))
            crossed_at += [seconds] * (detection.call_count - len(crossed_at))
    # The heartbeat 91 s after the pageview crossed, once: not one timed from a later event.
    assert detection.call_args_list == [mock.call("dwell")] and crossed_at == [91]
    if store == "database":
        assert reads == [0, 1, 1, 1]
        assert not SharedCounter.objects.filter(key__contains="pv-first").exists()
    else:
        assert reads == ([0, 1, 0, 0] if stamp_lost else [0, 0, 0, 0])


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the LMDB file is SQLite's store")
def test_the_threads_of_one_web_process_count_exactly(caplog):
    # gunicorn's gthread runs several requests of one process at once: their counts must all land,
    # none refused by the store nor let through uncounted.
    def hits(_: int) -> list[bool]:
        return [ratelimit.rate_limited(("c:threads", "100/h")) for _ in range(25)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        limited = [flag for batch in pool.map(hits, range(8)) for flag in batch]
    assert limited.count(False) == 100 and limited.count(True) == 100
    assert "counters unavailable" not in caplog.text


@pytest.mark.django_db
def test_a_counter_key_is_no_hash_anyone_can_make_without_the_secret_key(client, store, settings):
    """Whoever holds the counters store but not SECRET_KEY hashes a guessed address every usual way:
    no stored key matches. The stored key is the one the keyed hash gives, and another SECRET_KEY gives
    other keys (issue 33: a plain sha256 passed the test that the raw address is absent)."""
    seen: list[str] = []
    real = ratelimit.hashed_key

    def spy(key: str) -> str:
        seen.append(key)
        return real(key)

    with mock.patch.object(ratelimit, "hashed_key", spy):
        post(client, visit("reader-v4"), ip="198.51.100.23")
    hashes = {key.split(":")[3] for key in stored_keys()}  # arkwatch:rl:<kind>:<hash>:<window>
    assert seen and hashes == {real(key).partition(":")[2] for key in seen}
    unkeyed = set()
    for key in seen:
        for text in {key, key.partition(":")[2]}:
            for name in ("sha256", "sha1", "md5", "sha512", "blake2b", "sha3_256"):
                digest = hashlib.new(name, text.encode()).hexdigest()
                unkeyed |= {digest, digest[:32]}
            unkeyed.add(hmac.new(b"", text.encode(), hashlib.sha256).hexdigest()[:32])
    assert not hashes & unkeyed
    try:
        ratelimit.hashed_key.cache_clear()
        settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789abcdef"
        assert {real(key) for key in seen}.isdisjoint(f"{key.partition(':')[0]}:{h}" for key in seen for h in hashes)
    finally:
        ratelimit.hashed_key.cache_clear()
