"""Back-office page times with 1 M stored events (issue 5). Prints figures; asserts nothing.

    .venv/bin/python bench/backoffice.py [--events 1000000] [--database-url postgres://…]

Renders, as a logged-in superuser through Django's full request stack: the hot-leads page and its
polling JSON, one prospect's timeline, the funnel, and the visit / CTA / email event changelists.
Median of 5 requests after one warm-up. Target: under 300 ms each.
"""

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.detection import analyze_tables, bulk_events, django_setup  # noqa: E402
from bench.processes import reset_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument(
        "--database-url", default=f"sqlite:///{tempfile.gettempdir()}/arkwatch-bench-backoffice.sqlite3"
    )
    args = parser.parse_args()
    django_setup(args.database_url)

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from alerts.outbox.models import Alert
    from alerts.outcomes.models import Call
    from prospects.models import Prospect
    from tracking.models import EmailEvent

    connection.close()
    reset_database(args.database_url)
    call_command("migrate", verbosity=0)
    prospects = [
        Prospect.objects.create(
            email=f"cto{n}@company{n}.example", name=f"CTO {n}", company=f"Company {n}", phone="+33199001234"
        )
        for n in range(55)
    ]
    ids = [p.pk for p in prospects]
    now = timezone.now()
    started = time.perf_counter()
    bulk_events(args.events, start=now - timedelta(days=60), spread=timedelta(days=60), prefix="b", prospects=ids)
    EmailEvent.objects.bulk_create(
        [
            EmailEvent(
                prospect_id=pk,
                message_id=f"m{pk}-{n}",
                event=kind,
                occurred_at=now - timedelta(days=n),
                received_at=now - timedelta(days=n),
            )
            for pk in ids
            for n in range(20)
            for kind in ("sent", "opened")
        ]
    )
    for n, pk in enumerate(ids):
        alert = Alert.objects.create(
            prospect_id=pk,
            signal="cta_click",
            dedup_key=f"bench:{pk}",
            occurred_at=now - timedelta(minutes=n * 40),
            status="sent",
            evidence={"cta_id": "cta_reserver_audit"},
        )
        if n % 3 == 0:
            alert.call = Call.objects.create(prospect_id=pk, outcome="reached")
            alert.save()
    analyze_tables()
    print(
        f"{args.events:,} visit events (+ CTA clicks, 2,200 email events, 55 alerts) loaded in "
        f"{time.perf_counter() - started:.0f} s on {args.database_url.split(':')[0]}"
    )

    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-password-123")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    busiest = max(ids, key=lambda pk: Prospect.objects.get(pk=pk).visitevent_set.count())
    pages = {
        "hot leads": reverse("backoffice-hot-leads"),
        "hot leads JSON (poll)": reverse("backoffice-hot-leads-json"),
        "prospect timeline": reverse("backoffice-timeline", args=[busiest]),
        "funnel (30 days)": reverse("backoffice-funnel"),
        "visit events changelist": reverse("admin:tracking_visitevent_changelist"),
        "visit events, filtered": reverse("admin:tracking_visitevent_changelist")
        + "?event__exact=heartbeat&is_bot__exact=0",
        "CTA clicks changelist": reverse("admin:tracking_ctaclick_changelist"),
        "email events changelist": reverse("admin:tracking_emailevent_changelist"),
        "prospect change page": reverse("admin:prospects_prospect_change", args=[busiest]),
    }
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        timings = []
        for _ in range(5):
            t = time.perf_counter()
            client.get(url)
            timings.append(time.perf_counter() - t)
        median = statistics.median(timings) * 1000
        print(f"  {name:26s} {median:7.1f} ms  {'ok' if median < 300 else 'OVER 300 ms'}")


if __name__ == "__main__":
    main()
