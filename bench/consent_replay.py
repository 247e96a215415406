"""Replay of issue 28's measure: pixel fetches, tracked-link clicks and full tracker sessions (pageview,
heartbeats, CTA click, each carrying the `ak`) for prospects in each consent state (unknown, granted,
refused) under each policy (default pixel,storage; strict pixel,storage,link; empty), through the real
endpoints and detection. Prints, per case, the identifying rows stored and the SMS sent; every case the
policy forbids must show 0 of both. Exits 1 when one does not.

    .venv/bin/python bench/consent_replay.py [--prospects 50] [--pixels 1000] [--clicks 1000]

The pixels and links are the identifying ones (minted before the policy or the answer changed, the worst
case): the server must still store nothing identifying where the consent is missing. In-process, on a
fresh SQLite file, with the test settings (tasks inline, the locmem SMS outbox) and a simulated clock.
tests/test_consent_replay.py runs the same replay, smaller.
"""

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
POLICIES = {"default": ["pixel", "storage"], "strict": ["pixel", "storage", "link"], "empty": []}
STATES = ("unknown", "granted", "refused")
THUNDERBIRD = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


@dataclass
class Case:
    policy: str
    state: str
    # pixel fetches: identifying opens stored, opens counted per message only, SMS (re-open)
    pixel_rows: int = 0
    pixel_counted: int = 0
    pixel_sms: int = 0
    # link clicks: identifying clicks stored, redirects that handed out the ak
    link_rows: int = 0
    link_aks: int = 0
    # sessions: visitors identified + events given to the prospect, SMS (long read, CTA)
    session_rows: int = 0
    session_sms: int = 0

    def forbids(self, kind: str) -> bool:
        """What the policy and the answer forbid (prospects/consent.py consent_allows)."""
        if self.state == "refused":
            return True
        return kind in POLICIES[self.policy] and self.state != "granted"

    @property
    def lawful(self) -> bool:
        pixel_ok = not self.forbids("pixel") or self.pixel_rows == self.pixel_sms == 0
        link_ok = not self.forbids("link") or self.link_rows == self.link_aks == 0
        session_ok = not self.forbids("link") or self.session_rows == self.session_sms == 0
        return pixel_ok and link_ok and session_ok


def replay(*, prospects: int = 50, pixels: int = 1000, clicks: int = 1000, start: datetime | None = None) -> list[Case]:
    """Every (policy, state) case on its own prospects and its own simulated days. Needs a database
    whose transactions commit (detection's SMS leave on commit)."""
    import time_machine
    from django.test import Client, override_settings
    from django.utils import timezone

    from alerts.cycle import detection_cycle_run
    from alerts.outbox import sms
    from prospects.consent import prospect_consent_record
    from prospects.models import ConsentSource, Prospect
    from tracking.models import CtaClick, EmailEvent, MessageOpenCount, VisitEvent, Visitor
    from tracking.services import email_event_record
    from tracking.tokens import make_link_token, make_pixel_token

    client = Client(HTTP_HOST="127.0.0.1")
    day = (start or timezone.now() - timedelta(days=40)).replace(microsecond=0)
    cases = []
    serial = 0
    # Clean counts: no quiet hours, no hourly grouping; the cooldown still applies (one SMS per signal).
    with override_settings(ALERT_SMS_MAX_PER_HOUR=100_000, ALERT_QUIET_HOURS="", ALERT_QUIET_DAYS=[]):
        for policy, kinds in POLICIES.items():
            for state in STATES:
                case = Case(policy, state)
                with override_settings(TRACKING_CONSENT_FOR=kinds):
                    people = []
                    with time_machine.travel(day, tick=False):
                        for _n in range(prospects):
                            serial += 1
                            prospect = Prospect.objects.create(
                                name=f"Lead{serial:05d}",
                                email=f"cto@company{serial:05d}.example",
                                company=f"Co{serial}",
                            )
                            if state != "unknown":
                                prospect_consent_record(prospect=prospect, state=state, source=ConsentSource.IMPORT)
                            email_event_record(prospect=prospect, message_id=f"m-{serial}", event=EmailEvent.Kind.SENT)
                            people.append((prospect, f"m-{serial}", f"10.{serial // 250}.{serial % 250}.7"))
                    ids = [p.pk for p, _m, _ip in people]
                    messages = [m for _p, m, _ip in people]

                    # 1. Pixel fetches, 30 h after sending (a re-open), spread over the prospects.
                    before = len(sms.outbox)
                    opened_at = day + timedelta(hours=30)
                    with time_machine.travel(opened_at, tick=False):
                        for n in range(pixels):
                            prospect, message, ip = people[n % len(people)]
                            token = make_pixel_token(prospect_id=prospect.pk, message_id=message)
                            response = client.get(f"/t/o/{token}.gif", HTTP_USER_AGENT=THUNDERBIRD, REMOTE_ADDR=ip)
                            assert response.status_code == 200
                    with time_machine.travel(opened_at + timedelta(seconds=5), tick=False):
                        detection_cycle_run()
                    case.pixel_rows = EmailEvent.objects.filter(prospect_id__in=ids, event="opened").count()
                    counted = MessageOpenCount.objects.filter(message_id__in=messages)
                    case.pixel_counted = sum(counted.values_list("opens", flat=True))
                    case.pixel_sms = len(sms.outbox) - before

                    # 2. Tracked-link clicks (the browser does not follow: the sessions below are the visits).
                    clicked_at = opened_at + timedelta(minutes=2)
                    with time_machine.travel(clicked_at, tick=False):
                        for n in range(clicks):
                            prospect, message, ip = people[n % len(people)]
                            token = make_link_token(
                                prospect_id=prospect.pk,
                                message_id=message,
                                url="https://landing.example.com/audit",
                                ak=prospect.identity_token,
                            )
                            response = client.get(f"/t/c/{token}", HTTP_USER_AGENT=CHROME, REMOTE_ADDR=ip)
                            assert response.status_code == 302
                            case.link_aks += "ak" in parse_qs(urlsplit(response["Location"]).query)
                    case.link_rows = EmailEvent.objects.filter(prospect_id__in=ids, event="clicked").count()

                    # 3. One tracker session per prospect: a long read and the CTA, every event with the ak.
                    before = len(sms.outbox)
                    session_at = opened_at + timedelta(minutes=10)
                    for prospect, _message, ip in people:
                        visit = {
                            "visitor_id": f"visitor-{prospect.pk:06d}",
                            "page_view_id": f"pageview-{prospect.pk:06d}",
                        }
                        visit.update(page="/audit-gratuit-monitoring.html", ak=prospect.identity_token)
                        for seconds in (0, 15, 30, 45, 60, 75, 90, 100):
                            body = {**visit, "event": "pageview" if seconds == 0 else "heartbeat"}
                            body["engaged_ms"] = seconds * 1000
                            with time_machine.travel(session_at + timedelta(seconds=seconds), tick=False):
                                client.post(
                                    "/api/track/visit",
                                    json.dumps(body),
                                    "text/plain",
                                    HTTP_USER_AGENT=CHROME,
                                    REMOTE_ADDR=ip,
                                )
                        with time_machine.travel(session_at + timedelta(seconds=101), tick=False):
                            cta = {**visit, "cta_id": "cta_reserver_audit"}
                            client.post(
                                "/api/track/cta", json.dumps(cta), "text/plain", HTTP_USER_AGENT=CHROME, REMOTE_ADDR=ip
                            )
                    with time_machine.travel(session_at + timedelta(seconds=110), tick=False):
                        detection_cycle_run()
                    case.session_rows = (
                        Visitor.objects.filter(prospect_id__in=ids).count()
                        + VisitEvent.objects.filter(prospect_id__in=ids).count()
                        + CtaClick.objects.filter(prospect_id__in=ids).count()
                    )
                    case.session_sms = len(sms.outbox) - before
                cases.append(case)
                day += timedelta(days=3)
    return cases


def table(cases: list[Case]) -> str:
    header = (
        f"{'policy':8s} {'state':8s} | {'pixel: id. rows':>15s} {'counted':>8s} {'SMS':>5s} | "
        f"{'link: id. rows':>14s} {'ak given':>8s} | {'sessions: id. rows':>18s} {'SMS':>5s} | verdict"
    )
    lines = [header, "-" * len(header)]
    for c in cases:
        mark = {True: "*", False: " "}
        verdict = "ok" if c.lawful else "UNLAWFUL"
        lines.append(
            f"{c.policy:8s} {c.state:8s} | {c.pixel_rows:>14d}{mark[c.forbids('pixel')]} {c.pixel_counted:>8d} "
            f"{c.pixel_sms:>5d} | {c.link_rows:>13d}{mark[c.forbids('link')]} {c.link_aks:>8d} | "
            f"{c.session_rows:>17d}{mark[c.forbids('link')]} {c.session_sms:>5d} | {verdict}"
        )
    lines.append("* forbidden by the policy or the prospect's answer: identifying rows and SMS must be 0")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prospects", type=int, default=50, help="prospects per case (default 50)")
    parser.add_argument("--pixels", type=int, default=1000, help="pixel fetches per case (default 1000)")
    parser.add_argument("--clicks", type=int, default=1000, help="tracked-link clicks per case (default 1000)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="arkwatch-consent-replay-"))
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/replay.sqlite3"
    os.environ.pop("REDIS_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "arkwatch.settings_test"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    cases = replay(prospects=args.prospects, pixels=args.pixels, clicks=args.clicks)
    print(
        f"consent replay: {args.pixels} pixel fetches, {args.clicks} link clicks and {args.prospects} tracker "
        f"sessions (pageview, 7 heartbeats, a CTA click, each with the ak) per case, {args.prospects} prospects "
        "per case"
    )
    print(table(cases))
    return 0 if all(c.lawful for c in cases) else 1


if __name__ == "__main__":
    sys.exit(main())
