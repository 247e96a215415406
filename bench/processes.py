"""Start the product's real processes (qcluster, gunicorn) against a given database, for benchmarks and
the end-to-end tests (which import it from here: bench/ imports nothing from tests/)."""

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def deployments(bench: str, redis_db: int) -> dict[str, tuple[str, str]]:
    """The two stacks a bench runs on, (database URL, Redis URL) by name, its databases named after it."""
    return {
        "sqlite": (f"sqlite:///{tempfile.gettempdir()}/arkwatch-bench-{bench}.sqlite3", ""),
        "postgres-redis": (
            f"postgres://postgres@127.0.0.1:5432/arkwatch_bench_{bench}",
            f"redis://127.0.0.1:6379/{redis_db}",
        ),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers_healthz(port: int) -> bool:
    """Whether the product's server on 127.0.0.1:<port> answers at all (its /healthz, whatever the status)."""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        connection.request("GET", "/healthz")
        connection.getresponse()
        return True
    except OSError:
        return False


def database_url(settings_dict: dict) -> str:
    """The URL of the database Django is connected to (the test database during tests)."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(settings_dict['NAME']).resolve()}"
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


def product_env(**overrides: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "PYTEST_CURRENT_TEST")}
    env.update({"DJANGO_SETTINGS_MODULE": "arkwatch.settings", "DEBUG": "true", "PYTHONUNBUFFERED": "1"})
    env.update(overrides)
    return env


@contextmanager
def running(cmd: list[str], env: dict, log_path: Path, ready=None, timeout: float = 30.0):
    log = open(log_path, "wb")
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while ready is not None and not ready():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{cmd[:3]} did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        yield process
    finally:
        stop_group(process)
        log.close()


def stop_group(process: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM the whole process group (qcluster forks workers), wait until every member is gone."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        process.poll()
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def qcluster_cmd() -> list[str]:
    return [sys.executable, "manage.py", "qcluster"]


def log_contains(path: Path, text: str):
    return lambda: path.exists() and text in path.read_text(errors="replace")


BENCH_SECRET = "bench-only-" + "x" * 60


def production_env(database_url: str, redis_url: str = "", **overrides: str) -> dict:
    """The environment of `make serve` (DEBUG off) on loopback, with the bench's reference views."""
    env = product_env(
        DEBUG="false",
        SECRET_KEY=BENCH_SECRET,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        LOG_LEVEL="WARNING",
        Q_LOG_LEVEL="WARNING",
    )
    env.update(overrides)
    return env


def serve_cmd(part: str) -> list[str]:
    """`bin/serve prepare|web|worker`, the production command itself."""
    return [str(ROOT / "bin" / "serve"), part]


def reset_database(database_url: str) -> None:
    """A fresh, empty database: delete the SQLite file (and its counters), or drop and create the
    PostgreSQL database."""
    if database_url.startswith("sqlite"):
        path = Path(database_url.split("///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.rmtree(f"{path}-counters", ignore_errors=True)
        return
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(database_url)
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path[1:]}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parts.path[1:]}"')


def reset_redis(redis_url: str) -> None:
    """Empty the bench's Redis database: tasks an earlier run left in the broker would otherwise run
    in this one."""
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()


def _live_processes() -> dict[int, tuple[str, int, float]]:
    """pid -> (command name, parent pid, CPU seconds used so far, user + system), from Linux /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    processes = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name, rest = (entry / "stat").read_text().split("(", 1)[1].rsplit(")", 1)
        except (OSError, ValueError):
            continue
        fields = rest.split()
        processes[int(entry.name)] = (name, int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    return processes


def process_tree_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and all its live descendants."""
    processes = _live_processes()
    children: dict[int, list[int]] = {}
    for child, (_name, parent, _cpu) in processes.items():
        children.setdefault(parent, []).append(child)
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        if current in processes:
            total += processes[current][2]
        todo += children.get(current, [])
    return total


def database_servers_cpu() -> dict[int, float]:
    """pid -> CPU seconds used so far, for the PostgreSQL and Redis server processes of this machine
    (none on a SQLite deployment, whose database work is inside the web processes)."""
    return {pid: cpu for pid, (name, _parent, cpu) in _live_processes().items() if name in ("postgres", "redis-server")}


def cpu_since(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the processes used between two `database_servers_cpu()` samples. A process that
    exited in between (a backend closing its connection) took its CPU with it: it counts for nothing,
    rather than for minus all it had used."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def answers_ping(port: int) -> bool:
    """Whether the bench server on 127.0.0.1:<port> is up (its /bench/ping answers 200)."""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        connection.request("GET", "/bench/ping")
        return connection.getresponse().status == 200
    except OSError:
        return False
