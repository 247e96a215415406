"""Capacity: how many concurrently open landing pages one server holds at p99 < 100 ms.
Prints figures; asserts nothing.

    .venv/bin/python bench/capacity.py [--pages 2000,4000,6000,8000] [--seconds 15] [--database sqlite|postgres]
                                       [--redis-url …] [--workers 3]

Open-loop: each open page sends a heartbeat every 15 s (TRACKING_HEARTBEAT_SECONDS), the pages' phases
spread evenly, so N pages are N/15 requests a second whatever the server does. Each heartbeat is timed
from its *scheduled* send time, so a server that falls behind pays for the queue it builds (no
coordinated omission). The client is asyncio over keep-alive connections (one per 8 pages, at most
256), behind a trusted proxy: every page has its own client IP in X-Forwarded-For, as real readers do.
The server is the production command (`bin/serve web`), warmed up for 3 s at 200 pages (its workers
boot one after the other) before the first measured level.

`--read-seconds R --snippet before|now`: instead of a beat every 15 s for ever, each open page is a
succession of R-second page views sending what the snippet sends (issue 30, point 5): `before`, a
page view, a beat every 15 s and `leave`; `now`, a page view, beats every 15 s up to the one just past
SIGNAL_DWELL_SECONDS (90.15 s), then one a minute, and `leave`. The pages' phases are spread evenly.
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.processes import (  # noqa: E402
    ROOT,
    answers_ping,
    production_env,
    reset_database,
    reset_redis,
    running,
    serve_cmd,
)

PORT = 8440
HEARTBEAT_SECONDS = 15.0
WARM_UP_SECONDS = 3.0
IDLE_RECONNECT_SECONDS = 1.5
UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


def snippet_schedule(snippet: str, read_seconds: float) -> list[tuple[float, str]]:
    """(seconds after the page view, event) of one page view of a `read_seconds` read."""
    if snippet == "before":
        beats = [float(at) for at in range(15, int(read_seconds) + 1, 15) if at < read_seconds]
    else:
        beats = [15.0, 30.0, 45.0, 60.0, 75.0, 90.15]
        while beats[-1] + 60 < read_seconds:
            beats.append(beats[-1] + 60)
        beats = [at for at in beats if at < read_seconds]
    return [(0.0, "pageview"), *((at, "heartbeat") for at in beats), (read_seconds, "leave")]


def request_bytes(page: int, beat: int, event: str = "", cycle: int = 0, path: str = "/api/track/visit") -> bytes:
    body = json.dumps(
        {
            "visitor_id": f"cap-reader-{page:06d}",
            "page_view_id": f"cap-pv-{page:06d}-{cycle}",
            "page": "/audit-gratuit-monitoring.html",
            "event": event or ("heartbeat" if beat else "pageview"),
            "engaged_ms": beat * 15000,
        }
    ).encode()
    ip = f"10.{page >> 16 & 255}.{page >> 8 & 255}.{page & 255}"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {UA}\r\n"
        f"Content-Type: text/plain;charset=UTF-8\r\nOrigin: https://www.example.com\r\n"
        f"X-Forwarded-For: {ip}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next((int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")), 0)
    if length:
        await reader.readexactly(length)
    return status


def read_requests(pages: int, seconds: float, snippet: str, read_seconds: float) -> list[tuple[float, bytes]]:
    """(seconds from the level's start, request) of every page's page views over the level."""
    schedule = snippet_schedule(snippet, read_seconds)
    path = "/api/page/view" if snippet == "now" else "/api/track/visit"
    due = []
    for page in range(pages):
        phase = read_seconds * page / pages
        for cycle in range(-1, int(seconds // read_seconds) + 1):
            for offset, event in schedule:
                at = cycle * read_seconds + phase + offset
                if 0 <= at < seconds:
                    due.append((at, request_bytes(page, int(offset * 1000) // 15000, event, cycle, path)))
    return sorted(due, key=lambda item: item[0])


async def run_level(pages: int, seconds: float, snippet: str = "", read_seconds: float = 0) -> dict:
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
    latencies: list[float] = []
    errors: list[str] = []
    # Built before the clock starts: building them must not make the first requests late.
    reads = read_requests(pages, seconds, snippet, read_seconds) if read_seconds else []
    # As many keep-alive connections as the load keeps busy (one per 8 pages at a beat every 15 s):
    # idle ones are closed by gunicorn after 2 s, and reopening them all at once is a storm no
    # browser makes.
    connections = min(256, max(8, int(len(reads) / seconds * 15 / 8) if read_seconds else pages // 8))
    start = time.perf_counter() + 0.2
    stop = start + seconds

    async def schedule_reads() -> None:
        for at, payload in reads:
            delay = start + at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            queue.put_nowait((start + at, payload))
        for _ in range(connections):
            queue.put_nowait((0.0, b""))

    async def schedule() -> None:
        interval = HEARTBEAT_SECONDS / pages
        n = 0
        while True:
            due = start + n * interval
            if due >= stop:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            page = n % pages
            queue.put_nowait((due, request_bytes(page, n // pages)))
            n += 1
        for _ in range(connections):
            queue.put_nowait((0.0, b""))

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
        idle_since = time.perf_counter()
        while True:
            due, payload = await queue.get()
            if not payload:
                break
            if time.perf_counter() - idle_since > IDLE_RECONNECT_SECONDS:
                # gunicorn closes a keep-alive connection idle for its keepalive (2 s); a browser opens
                # a new one, and so does this client, rather than counting the closed one as an error.
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
            try:
                writer.write(payload)
                status = await read_response(reader)
                if status != 202:
                    errors.append(str(status))
            except (OSError, asyncio.IncompleteReadError) as exc:
                errors.append(repr(exc))
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
                idle_since = time.perf_counter()
                continue
            latencies.append(time.perf_counter() - due)
            idle_since = time.perf_counter()
        writer.close()

    cpu = time.process_time()
    scheduler = schedule_reads() if read_seconds else schedule()
    await asyncio.gather(scheduler, *(connection() for _ in range(connections)))
    cpu = time.process_time() - cpu
    latencies.sort()
    count = len(latencies)
    return {
        "pages": pages,
        "rate": count / seconds,
        "p50": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99": latencies[min(count - 1, int(count * 0.99))] * 1000 if latencies else float("nan"),
        "errors": len(errors),
        "first_errors": errors[:3],
        "client_share": cpu / (seconds * (os.cpu_count() or 1)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", default="2000,4000,6000,8000")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--read-seconds", type=float, default=0, help="page views of this length (0: beats for ever)")
    parser.add_argument("--snippet", choices=["before", "now"], default="now")
    args = parser.parse_args()
    url = (
        f"sqlite:///{tempfile.gettempdir()}/arkwatch-bench-capacity.sqlite3"
        if args.database == "sqlite"
        else "postgres://postgres@127.0.0.1:5432/arkwatch_deploy"
    )
    reset_database(url)
    reset_redis(args.redis_url)
    env = production_env(
        url,
        args.redis_url,
        DATA_DIR=tempfile.gettempdir(),
        PORT=str(PORT),
        WEB_WORKERS=str(args.workers),
        WEB_THREADS=str(args.threads),
        TRACKING_TRUSTED_PROXIES="127.0.0.1",
        TRACKING_ALLOWED_ORIGINS="https://www.example.com",
        PYTHON=sys.executable,
    )
    subprocess.run(serve_cmd("prepare"), cwd=ROOT, env=env, check=True, capture_output=True)

    def ready() -> bool:
        return answers_ping(PORT)

    store = "SQLite" if args.database == "sqlite" else "PostgreSQL"
    print(
        f"capacity on {store}{' + Redis' if args.redis_url else ''}, bin/serve web {args.workers}×{args.threads}; "
        + (
            f"a heartbeat every {HEARTBEAT_SECONDS:g} s per open page"
            if not args.read_seconds
            else f"{args.read_seconds:g} s page views with the {args.snippet} snippet's requests "
            f"({len(snippet_schedule(args.snippet, args.read_seconds))} per page view)"
        )
        + f", open-loop, {args.seconds:g} s per level:"
    )
    held = 0
    with running(serve_cmd("web"), env, Path(tempfile.gettempdir()) / "arkwatch-bench-capacity-web.log", ready=ready):
        # The first worker answers while the others still boot: 3 s of light load, not measured.
        asyncio.run(run_level(200, WARM_UP_SECONDS, args.snippet, args.read_seconds))
        for pages in [int(p) for p in args.pages.split(",")]:
            r = asyncio.run(run_level(pages, args.seconds, args.snippet, args.read_seconds))
            ok = r["p99"] < 100 and not r["errors"]
            held = pages if ok else held
            print(
                f"  {pages:6,} pages  {r['rate']:6.0f} req/s  p50 {r['p50']:7.1f} ms  p99 {r['p99']:7.1f} ms  "
                f"client CPU share {r['client_share']:4.0%}  {'ok' if ok else 'over'}"
                + (f"  {r['errors']} errors {r['first_errors']}" if r["errors"] else ""),
                flush=True,
            )
            if not ok:
                break
    print(f"  held at p99 < 100 ms: {held:,} open pages (the next level up did not)")


if __name__ == "__main__":
    main()
