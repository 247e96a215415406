"""Issue 29's four holes, replayed as an attacker (or the founder's phone) would, against the production
command (`bin/serve web` with 2 workers + `bin/serve worker`, SQLite + ORM broker, DEBUG off) on a
loopback port, with the local OVH double (bench/ovh_sink.py) standing in for OVH. Prints what
happened; asserts nothing (the tests hold the behaviour: tests/test_unverified_trust.py,
tests/test_login_throttle.py, tests/test_sms_replies.py).

    .venv/bin/python bench/holes_e2e.py [bookings] [claims] [login] [replies]

Clients are told apart by X-Forwarded-For (the loopback is a trusted proxy by default, as behind nginx).

- bookings: 13 Cal.com bookings, correctly signed, typed with 13 prospects' emails (no ak), 60 days
            ahead; then the first victim's own click; then a verified booking 90 days ahead, a click,
            and the booking's cancellation.
- claims:   a claim of a prospect's email + a CTA click from a stranger's network, then the prospect's
            own click from their own link; then ten claims from ten /24 networks and a real
            verified click of another prospect.
- login:    the founder signs in once; an attacker sends 11 wrong passwords for "admin" from
            elsewhere; the founder's browser signs in again; a new browser is told when to retry and
            gets in then.
- replies:  a lead is texted, then a test SMS; the founder answers "3 jeudi 10h"; then two more leads
            are texted and the founder answers "1".
"""

import argparse
import hashlib
import hmac
import http.client
import json
import re
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ovh_sink import OvhSink  # noqa: E402
from bench.processes import (  # noqa: E402
    ROOT,
    answers_ping,
    free_port,
    log_contains,
    production_env,
    reset_database,
    running,
    serve_cmd,
)

DATABASE = f"sqlite:///{tempfile.gettempdir()}/arkwatch-bench-holes.sqlite3"
UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
FOUNDER_PHONE = "+33199000001"  # fictitious (ARCEP reserves 01 99 00 for fiction)
CALCOM_SECRET = "bench-calcom-secret"
PASSWORD = "bench-founder-password-" + "x" * 12
CREATE_PROSPECTS = """
import django, json, sys
django.setup()
from prospects.models import Prospect
print(json.dumps({n: Prospect.objects.create(email=f"cto@{n.lower()}.example", name=n, company=f"{n} SAS",
                  status="contacted").identity_token for n in json.loads(sys.argv[1])}))
"""
STATE = """
import django, json
django.setup()
from django.db.models import Count
from alerts.outbox.models import Alert
from alerts.outcomes.models import Call, SmsReply
from prospects.models import Prospect
print(json.dumps({
    "alerts": dict(Alert.objects.values_list("status").annotate(n=Count("pk"))),
    "alerts_by_prospect": [[a.prospect.name, a.signal, a.identification, a.get_status_display()]
                           for a in Alert.objects.select_related("prospect").order_by("pk")],
    "prospects_meeting_booked": list(Prospect.objects.filter(status="meeting_booked").values_list("name", flat=True)),
    "status": dict(Prospect.objects.values_list("name", "status")),
    "calls": [[c.prospect.name, c.get_outcome_display(), c.via] for c in Call.objects.select_related("prospect")],
    # (getattr: the same replay runs against a version before issue 29, which kept no reason.)
    "replies": [[r.text, getattr(r, "get_ignored_display", str)() or ("applied" if r.call else "ignored"),
                 r.call.prospect.name if r.call else None]
                for r in SmsReply.objects.select_related("call__prospect").order_by("pk")],
}, default=str))
"""
CREATE_ADMIN = """
import django, sys
django.setup()
from django.contrib.auth import get_user_model
get_user_model().objects.create_superuser("admin", "admin@example.com", sys.argv[1])
"""


class Browser:
    """A client with its own cookies and its own address (X-Forwarded-For)."""

    def __init__(self, port: int, ip: str) -> None:
        self.port, self.ip, self.cookies = port, ip, {}

    def send(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        sent = {"User-Agent": UA, "X-Forwarded-For": self.ip, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        answer = (response.status, response.read().decode(errors="replace"), dict(response.getheaders()))
        connection.close()
        return answer

    def post_json(self, path: str, data: dict, headers: dict | None = None):
        return self.send("POST", path, json.dumps(data).encode(), {"Content-Type": "text/plain", **(headers or {})})

    def sign_in(self, password: str) -> tuple[int, str, dict]:
        self.cookies.pop("sessionid", None)  # signed out since: the same browser, a new session
        _status, page, _headers = self.send("GET", "/admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        form = {"username": "admin", "password": password, "csrfmiddlewaretoken": token.group(1) if token else ""}
        return self.send(
            "POST",
            "/admin/login/?next=/admin/",
            urlencode(form).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )


class Product:
    """The product on its production command, its SMS going to `sink`."""

    def __init__(self, sink: OvhSink, names: list[str], **settings: str) -> None:
        reset_database(DATABASE)
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="arkwatch-holes-"))
        self.env = production_env(
            DATABASE,
            DATA_DIR=str(self.workdir),
            PORT=str(self.port),
            WEB_WORKERS="2",
            PYTHON=sys.executable,
            Q_CLUSTER_NAME=f"holes-{uuid.uuid4().hex[:6]}",
            Q_LOG_LEVEL="INFO",
            ALERT_SMS_RECIPIENTS=FOUNDER_PHONE,
            CALCOM_WEBHOOK_SECRET=CALCOM_SECRET,
            **sink.settings(),
            **settings,
        )
        subprocess.run(serve_cmd("prepare"), cwd=ROOT, env=self.env, check=True, capture_output=True)
        self.tokens = self.python(CREATE_PROSPECTS, json.dumps(names))

    def python(self, code: str, *args: str) -> dict:
        out = subprocess.run(
            [sys.executable, "-c", code, *args], cwd=ROOT, env=self.env, check=True, capture_output=True
        )
        return json.loads(out.stdout or b"{}")

    def manage(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        return (out.stdout + out.stderr).strip()

    def state(self) -> dict:
        return self.python(STATE)

    def browser(self, ip: str) -> Browser:
        return Browser(self.port, ip)

    def __enter__(self) -> "Product":
        worker_log, web_log = self.workdir / "worker.log", self.workdir / "web.log"
        self.worker = running(serve_cmd("worker"), self.env, worker_log, ready=log_contains(worker_log, "Q Cluster"))
        self.web = running(serve_cmd("web"), self.env, web_log, ready=lambda: answers_ping(self.port))
        self.worker.__enter__()
        self.web.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.web.__exit__(None, None, None)
        self.worker.__exit__(None, None, None)


def texts(sink: OvhSink, since: int = 0) -> list[str]:
    with sink.lock:
        return [message for _at, message in sink.arrivals[since:]]


def settle(sink: OvhSink, seconds: float = 6.0) -> None:
    """Wait until no SMS arrived for two seconds (or `seconds` passed)."""
    deadline, last = time.time() + seconds, -1
    while time.time() < deadline:
        count = len(texts(sink))
        if count == last:
            return
        last = count
        time.sleep(2)


def click(browser: Browser, visitor: str, **who: str) -> int:
    body = {"visitor_id": visitor, "page": "/audit", "cta_id": "cta_reserver_audit", **who}
    return browser.post_json("/api/track/cta", body)[0]


def calcom(browser: Browser, trigger: str, uid: str, email: str, days: int, ak: str = "") -> int:
    start = (datetime.now(UTC) + timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)
    payload = {
        "uid": uid,
        "startTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "endTime": (start + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "attendees": [{"name": "Quelqu'un", "email": email, "timeZone": "Europe/Paris"}],
        "responses": {"email": {"value": email}, **({"ak": {"value": ak}} if ak else {})},
    }
    body = json.dumps({"triggerEvent": trigger, "createdAt": datetime.now(UTC).isoformat(), "payload": payload})
    signature = hmac.new(CALCOM_SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Cal-Signature-256": signature}
    return browser.send("POST", "/api/webhooks/calcom", body.encode(), headers)[0]


def show(title: str, lines: list[str]) -> None:
    print(f"  {title}")
    for line in lines:
        print(f"    - {line}")


def bookings() -> None:
    names = [f"Company{n:02d}" for n in range(13)] + ["Verified"]
    print("1. Bookings typed with prospects' emails (Cal.com, signed, no ak, 60 days ahead)")
    with OvhSink() as sink, Product(sink, names) as product:
        stranger = product.browser("203.0.113.7")
        codes = [calcom(stranger, "BOOKING_CREATED", f"forged-{n}", f"cto@{n.lower()}.example", 60) for n in names[:13]]
        settle(sink)
        print(f"  13 forged bookings: answers {sorted(set(codes))}; SMS within seconds: {len(texts(sink))}")
        deadline = time.time() + 150  # the held-alerts notice leaves a minute after the first hold
        while time.time() < deadline and not any(t.startswith("ArkWatch") for t in texts(sink)):
            time.sleep(1)
        state = product.state()
        show("SMS that reached the phone in the hour:", texts(sink))
        print(f"  alerts by status: {state['alerts']}")
        print(f"  prospects set to 'RDV pris': {state['prospects_meeting_booked'] or 'none'}")
        before = len(texts(sink))
        visitor = product.browser("198.51.100.23")
        click(visitor, "victim-own-click", ak=product.tokens["Company00"])
        settle(sink)
        show("Company00's own click (its ak) after the forged booking texts:", texts(sink, before) or ["nothing"])

        print("   A verified booking (its ak) 90 days ahead, then a click, then the cancellation:")
        before = len(texts(sink))
        calcom(visitor, "BOOKING_CREATED", "real-1", "cto@verified.example", 90, ak=product.tokens["Verified"])
        settle(sink)
        print(f"  status after the booking: {product.state()['status']['Verified']}")
        click(visitor, "verified-click", ak=product.tokens["Verified"])
        settle(sink)
        show("SMS (booking, then the click: a meeting 90 days ahead silences nothing):", texts(sink, before))
        calcom(visitor, "BOOKING_CANCELLED", "real-1", "cto@verified.example", 90, ak=product.tokens["Verified"])
        time.sleep(2)
        print(f"  status after the cancellation: {product.state()['status']['Verified']}")


def claims() -> None:
    names = ["Victim", "Realreader"] + [f"Claimed{n:02d}" for n in range(10)]
    print("2. Forged claims: a prospect's email + a CTA click from a stranger's network")
    with OvhSink() as sink, Product(sink, names) as product:
        click(product.browser("203.0.113.9"), "forger-00001", email="anyone@victim.example")
        settle(sink)
        before = len(texts(sink))
        click(product.browser("198.51.100.23"), "victim-00001", ak=product.tokens["Victim"])
        settle(sink)
        show("the forged claim texted:", texts(sink)[:before])
        show("then the prospect's own click (its ak) texted:", texts(sink, before) or ["nothing"])
        before = len(texts(sink))
        for n in range(10):
            click(product.browser(f"203.0.{n + 20}.5"), f"forged-net-{n:03d}", email=f"x@claimed{n:02d}.example")
        settle(sink)
        claimed = texts(sink, before)
        start = time.time()
        click(product.browser("198.51.100.77"), "real-reader-1", ak=product.tokens["Realreader"])
        while len(texts(sink)) == before + len(claimed) and time.time() - start < 15:
            time.sleep(0.2)
        real = texts(sink, before + len(claimed))
        show(f"ten claims from ten /24 networks texted {len(claimed)}:", claimed)
        show(f"then a real verified click, {time.time() - start:.1f} s later:", real or ["nothing (in the summary)"])
        print(f"  alerts by status: {product.state()['alerts']}")


def login() -> None:
    print("3. Login: an attacker guessing admin's password from elsewhere (ADMIN_LOGIN_RATE_LIMIT 10/m)")
    with OvhSink() as sink, Product(sink, []) as product:
        product.python(CREATE_ADMIN + "\nprint('{}')", PASSWORD)
        founder = product.browser("198.51.100.30")
        status, _page, headers = founder.sign_in(PASSWORD)
        known = "arkwatch_device" in founder.cookies
        print(f"  the founder signs in: {status} → {headers.get('Location')}; device cookie: {known}")
        attacker = product.browser("203.0.113.66")
        time.sleep((60 - time.time() % 60) % 60 + 1)  # one fixed window for the whole replay
        codes = [attacker.sign_in(f"guess-{n}")[0] for n in range(11)]
        print(f"  attacker, 11 wrong passwords within the minute: {codes}")
        print(f"  the founder's browser, right password: {founder.sign_in(PASSWORD)[0]}")
        newcomer = product.browser("198.51.100.40")
        status, page, headers = newcomer.sign_in(PASSWORD)
        print(f"  a new browser, right password: {status} “{page.strip()}” (Retry-After {headers.get('Retry-After')})")
        if status == 429:
            time.sleep(int(headers.get("Retry-After", "60")) + 1)
            print(f"  the same, after Retry-After: {newcomer.sign_in(PASSWORD)[0]}")


def wait_replies_read(sink: OvhSink, timeout: float = 80.0) -> None:
    """The replies schedule runs every minute: wait until the incoming box is empty."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        with sink.lock:
            if not sink.incoming:
                return
        time.sleep(1)


def replies() -> None:
    print("4. SMS replies (OVH_SMS_REPLIES on): which lead does a reply land on?")
    leads = ["Leada", "Leadb", "Leadc"]
    with OvhSink() as sink, Product(sink, leads, OVH_SMS_REPLIES="true", OVH_SMS_SENDER="") as product:
        reader = product.browser("198.51.100.23")
        click(reader, "lead-a-00001", ak=product.tokens["Leada"])
        settle(sink)
        print(f"  send_test_sms: {product.manage('send_test_sms')}")
        show("SMS so far:", texts(sink))
        sink.reply(FOUNDER_PHONE, "3 jeudi 10h")
        wait_replies_read(sink)
        state = product.state()
        print(f"  reply “3 jeudi 10h” after the test SMS: {state['replies'][-1]}")
        print(f"  Leada's status: {state['status']['Leada']}; calls: {state['calls']}")
        before = len(texts(sink))
        click(reader, "lead-b-00001", ak=product.tokens["Leadb"])
        settle(sink)
        click(reader, "lead-c-00001", ak=product.tokens["Leadc"])
        settle(sink)
        show("two more lead SMS:", texts(sink, before))
        time.sleep(2)
        sink.reply(FOUNDER_PHONE, "1")
        wait_replies_read(sink)
        state = product.state()
        print(f"  reply “1” after the two: {state['replies'][-1]}")
        print(f"  calls recorded: {state['calls']}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("parts", nargs="*", default=["bookings", "claims", "login", "replies"])
    args = parser.parse_args()
    for part in args.parts:
        {"bookings": bookings, "claims": claims, "login": login, "replies": replies}[part]()
        print()


if __name__ == "__main__":
    main()
