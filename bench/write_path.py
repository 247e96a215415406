"""The event write, A/B in one process: the intake's `_insert_event` (hand INSERT, counters in the same
step) against an ORM `objects.create` after the same rate-limit count. Interleaved rounds, CPU time of
this process (less sensitive to a busy machine than wall time). Prints figures; asserts nothing.

    .venv/bin/python bench/write_path.py [--database-url postgres://postgres@127.0.0.1:5432/arkwatch_bench_write]
                                         [--rounds 10] [--writes 500]

Issue 19, point 1: the plainer path is taken only if it keeps ingest within 5 points.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.processes import reset_database  # noqa: E402

UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=f"sqlite:///{tempfile.gettempdir()}/arkwatch-bench-write.sqlite3")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--writes", type=int, default=500)
    args = parser.parse_args()
    reset_database(args.database_url)
    os.environ.update(  # production settings: DEBUG off (no query log)
        DJANGO_SETTINGS_MODULE="arkwatch.settings",
        DATABASE_URL=args.database_url,
        DEBUG="false",
        SECRET_KEY="bench-" + "x" * 60,
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from core.ratelimit import rate_limited
    from tracking.models import VisitEvent
    from tracking.services import _insert_event

    call_command("migrate", verbosity=0)

    def orm_create(model, values, limits) -> bool:
        if rate_limited(*limits):
            return False
        model.objects.create(**values)
        return True

    def values(n: int) -> dict:
        return {
            "visitor_id": f"v{n}",
            "page_view_id": f"pv{n // 10}",
            "page": "/audit",
            "referrer": "https://www.google.com/",
            "ak": "",
            "email": "",
            "received_at": timezone.now(),
            "is_bot": False,
            "user_agent": UA,
            "client_network": "203.0.113.0",
            "event": "heartbeat",
            "engaged_ms": 15000,
            "heartbeat_s": 15.0,
        }

    paths = {"hand INSERT (_insert_event)": _insert_event, "ORM objects.create": orm_create}
    cpu: dict[str, list[float]] = {name: [] for name in paths}
    n = 0
    for round_ in range(args.rounds):
        for name in list(paths) if round_ % 2 == 0 else list(paths)[::-1]:
            write = paths[name]
            started = time.process_time()
            for _ in range(args.writes):
                n += 1
                write(VisitEvent, values(n), [(f"c:r{n % 50}", "1000000/m"), ("c:net", "100000000/m")])
            cpu[name].append((time.process_time() - started) / args.writes * 1e6)
    print(f"{args.database_url.split(':')[0]}: CPU per event write, {args.rounds} rounds of {args.writes}")
    for name, figures in cpu.items():
        spread = f"rounds {min(figures):.0f}–{max(figures):.0f}"
        print(f"  {name:28} median {statistics.median(figures):4.0f} µs  ({spread})")


if __name__ == "__main__":
    main()
