"""A seeded campaign of 55 prospects over 10 days, through the product's own paths, then its ledger.

    .venv/bin/python bench/campaign.py [--database-url sqlite:////tmp/arkwatch-campaign.sqlite3] [--seed 55]

Each day some prospects read the page, click "Réserver audit" or reopen the email; detection runs at
that moment (frozen clock) and texts them (locmem backend); the founder calls most of them after a
few minutes to a few hours with the card's opener (alerts/outcomes/calls.py, as the call form does) or
answers "9" to a false one; some book through Calendly (the webhook's service, matched by the ak in
`utm_content`) or on the phone. Prints the ledger (the figures of the ledger page and of
`monitoring_status --json`) and leaves the database for the screenshots:

    DATABASE_URL=sqlite:////tmp/arkwatch-campaign.sqlite3 CAMPAIGN_GOAL_COUNT=3 DEBUG=true \\
        .venv/bin/python manage.py runserver
"""

import argparse
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.detection import django_setup  # noqa: E402
from bench.processes import reset_database  # noqa: E402

FIRST = ["Jean", "Marie", "Luc", "Claire", "Hugo", "Inès", "Paul", "Léa", "Marc", "Sophie", "Nora", "Yann"]
LAST = ["Martin", "Bernard", "Dubois", "Moreau", "Laurent", "Simon", "Michel", "Garcia", "Roux", "Fournier"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="sqlite:////tmp/arkwatch-campaign.sqlite3")
    parser.add_argument("--seed", type=int, default=55)
    parser.add_argument("--prospects", type=int, default=55)
    args = parser.parse_args()
    reset_database(args.database_url)
    django_setup(args.database_url)

    import time_machine
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.utils import timezone

    from alerts.cycle import detection_cycle_run
    from alerts.outbox.models import Alert
    from alerts.outcomes.calls import call_record
    from alerts.outcomes.ledger import ledger
    from alerts.outcomes.models import CallOutcome
    from backoffice.hot_leads import opener_for
    from prospects.models import Prospect
    from tracking.models import BookingTool, CtaClick, EmailEvent, VisitEvent
    from tracking.webhooks.events import BookingEvent
    from tracking.webhooks.meetings import booking_events_record

    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    founder = User.objects.create_superuser("founder", "founder@example.com", "pw-for-the-campaign-bench")
    prospects = [
        Prospect.objects.create(
            name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            email=f"cto{i}@societe{i}.example",
            company=f"Société {i}",
            title="CTO",
            phone=f"+331990{i // 100 % 10}{i % 100:02d}{rng.randrange(100):02d}",
            pain_point="Alertes trop tardives",
            tracking_consent="granted",
        )
        for i in range(args.prospects)
    ]
    started = time.perf_counter()
    today = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=9)
    for p in prospects:  # the outreach email, day 0
        EmailEvent.objects.create(
            prospect=p, message_id=f"<relance-{p.pk}>", event="sent", occurred_at=start, received_at=start
        )
    booked_at: dict[int, datetime] = {}
    for day in range(10):
        for p in rng.sample(prospects, k=rng.randint(4, 9)):
            at = start + timedelta(days=day, hours=rng.uniform(0, 9), minutes=rng.uniform(0, 59))
            kind = rng.choices(["read", "click", "reopen"], weights=[5, 3, 2])[0]
            visitor = f"v{p.pk}d{day}"
            if kind == "reopen":
                # A follow-up email sent the day before, opened again now (24-48 h after it was sent).
                message = f"<suivi-{p.pk}-{day}>"
                sent = at - timedelta(hours=rng.uniform(25, 40))
                EmailEvent.objects.create(
                    prospect=p, message_id=message, event="sent", occurred_at=sent, received_at=sent
                )
                EmailEvent.objects.create(
                    prospect=p,
                    message_id=message,
                    event="opened",
                    occurred_at=at,
                    received_at=at,
                    user_agent="Mozilla/5.0 (Windows NT 10.0) Thunderbird/128.0",
                )
            else:
                for s in range(0, rng.choice([60, 120, 200, 300]), 15):
                    VisitEvent.objects.create(
                        visitor_id=visitor,
                        page_view_id=f"pv{p.pk}d{day}",
                        page="/audit-gratuit-monitoring.html",
                        ak=p.identity_token,
                        event="pageview" if s == 0 else "heartbeat",
                        received_at=at + timedelta(seconds=s),
                    )
                if kind == "click":
                    CtaClick.objects.create(
                        visitor_id=visitor,
                        page_view_id=f"pv{p.pk}d{day}",
                        page="/audit-gratuit-monitoring.html",
                        ak=p.identity_token,
                        cta_id="cta_reserver_audit",
                        received_at=at + timedelta(seconds=30),
                    )
            detect_at = at + timedelta(minutes=4)
            with time_machine.travel(detect_at, tick=False):
                detection_cycle_run(trigger="command")
            alert = Alert.objects.filter(prospect=p, status="sent").order_by("-detected_at").first()
            if alert is None or alert.detected_at < detect_at - timedelta(minutes=1) or alert.call_id:
                continue
            # The founder's answer: most calls within the hour, some later, a few never; a "9" now and then.
            roll = rng.random()
            if roll < 0.15:
                continue
            call_at = detect_at + timedelta(minutes=rng.choice([3, 6, 9, 14, 25, 40, 75, 150]))
            if roll < 0.22:
                outcome = CallOutcome.FALSE_ALARM
            else:
                outcome = rng.choices(
                    [CallOutcome.REACHED, CallOutcome.VOICEMAIL, CallOutcome.NO_ANSWER, CallOutcome.NOT_INTERESTED],
                    weights=[4, 3, 2, 1],
                )[0]
            with time_machine.travel(call_at, tick=False):
                call_record(prospect=p, user=founder, outcome=outcome, opener=opener_for(p))
            if outcome == CallOutcome.REACHED and p.pk not in booked_at and rng.random() < 0.55:
                # Booked through the Calendly link carrying the ak, an hour or a day after the call.
                when = call_at + timedelta(hours=rng.choice([1, 5, 20]))
                meeting_at = when + timedelta(days=rng.choice([1, 2, 3, 6]))
                meeting_at = meeting_at.replace(hour=rng.choice([9, 10, 14, 16]), minute=0)
                event = BookingEvent(
                    key=f"calendly:bench:{p.pk}",
                    event="invitee.created",
                    status="booked",
                    booking_id=f"https://api.calendly.com/scheduled_events/BENCH{p.pk}",
                    email=p.email,
                    starts_at=meeting_at,
                    ends_at=meeting_at + timedelta(minutes=30),
                    aks=(p.identity_token,),
                )
                with time_machine.travel(when, tick=False):
                    booking_events_record(tool=BookingTool.CALENDLY, events=[event])
                    detection_cycle_run(trigger="meeting")
                booked_at[p.pk] = when
    elapsed = time.perf_counter() - started

    result = ledger()
    print(f"{len(prospects)} prospects, {Alert.objects.count()} signals, seeded in {elapsed:.1f} s")
    print(f"{'':16}{'signals':>8}{'SMS':>10}{'called':>10}{'median':>9}{'reached':>10}{'booked':>10}{'held':>8}")

    def rate(r) -> str:
        return f"{r.k}/{r.n}" + ("" if r.enough else "*")

    for row in [*result.by_signal, result.total]:
        median = f"{row.median_sms_to_call_minutes} min" if row.median_sms_to_call_minutes is not None else "-"
        print(
            f"{row.label or 'all':16}{row.signals:>8}{rate(row.sms_sent):>10}{rate(row.called):>10}{median:>9}"
            f"{rate(row.reached):>10}{rate(row.meetings_booked):>10}{rate(row.meetings_held):>8}"
        )
    print("* below LEDGER_MIN_N: the page says 'pas assez de données'")
    for row in result.by_opener:
        print(
            f"opener {row.label[:40]!r}: calls {row.signals}, reached {rate(row.reached)}, "
            f"booked {rate(row.meetings_booked)}"
        )
    for trace in result.meetings:
        signal = trace.alert.signal if trace.alert else "-"
        print(
            f"meeting {timezone.localtime(trace.meeting.starts_at):%d/%m %H:%M} {trace.meeting.status}: "
            f"signal {signal}, SMS {trace.sms_at is not None}, call {trace.call.outcome if trace.call else '-'}"
        )


if __name__ == "__main__":
    main()
