"""Does `make run` stop for sure? Prints figures; asserts nothing.

    .venv/bin/python bench/stop.py [--trials 20] [--kill-trials 3] [--max-delay 20] [--serving]

Each trial starts bin/run (its own session, like a terminal's foreground job) on a free port with a
throwaway database, waits a random time (0.5 s to --max-delay: during migrate, the admin account,
the schedules, the servers' start or once they serve), sends SIGINT to the whole group (Ctrl-C), and
counts the processes still running 5 s later (--serving: the wait starts when the server first
answers, so that every trial stops a running web server and cluster). Every process started by the
trial is found by a marker in its environment or by its working directory (this checkout), wherever
it was reparented: start the bench from another directory. Then --kill-trials runs, once the server
answers, SIGKILL only the supervising script and count what is left after 5 s.
"""

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.processes import ROOT, answers_healthz, free_port  # noqa: E402


def marked(marker: str) -> list[tuple[int, str]]:
    """Running (not zombie) processes of the trial: those whose environment carries the marker, and
    every process working in this checkout but the bench itself (qcluster and runserver rewrite their
    environment block with setproctitle, so the marker alone misses them); one trial runs at a time."""
    needle = f"ARKWATCH_TRIAL={marker}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            ours = needle in (proc / "environ").read_bytes().split(b"\0") or os.readlink(proc / "cwd") == str(ROOT)
            if not ours or (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue
            found.append((int(proc.name), (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:80]))
        except OSError:
            continue
    return found


def start(tmp: Path, marker: str, port: int) -> subprocess.Popen:
    dropped = ("DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        DATA_DIR=str(tmp / "data"),
        ENV_FILE=str(tmp / ".env"),
        PORT=str(port),
        ADMIN_PASSWORD="pw-for-bench-only-42",
        ARKWATCH_TRIAL=marker,
    )
    with open(tmp / "log", "ab") as log:
        return subprocess.Popen(
            [str(ROOT / "bin" / "run")],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,  # a terminal's foreground job: Ctrl-C is SIGINT to the whole group
            # A bench started in the background (`&`) inherits SIGINT ignored; a terminal's job does not.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )


def settle(marker: str, seconds: float = 5.0) -> list[tuple[int, str]]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and marked(marker):
        time.sleep(0.05)
    return marked(marker)


def cleanup(marker: str) -> None:
    for pid, _command in marked(marker):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def ctrl_c_trial(max_delay: float, serving: bool = False) -> tuple[float, int, int, list[tuple[int, str]]]:
    """Ctrl-C `delay` s after start, or (serving) `delay` s after the server first answers."""
    marker = uuid.uuid4().hex
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        process = start(Path(tmp), marker, port)
        deadline = time.monotonic() + 180
        while serving and not answers_healthz(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        delay = random.uniform(0.0 if serving else 0.5, max_delay)
        time.sleep(delay)
        before = len(marked(marker))
        os.killpg(process.pid, signal.SIGINT)
        left = settle(marker)
        cleanup(marker)
        process.wait(timeout=10)
        return delay, before, process.returncode, left


def kill_trial() -> tuple[int, list[tuple[int, str]]]:
    marker = uuid.uuid4().hex
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        process = start(Path(tmp), marker, port)
        deadline = time.monotonic() + 180  # a loaded machine takes a minute to migrate a fresh database
        while not answers_healthz(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # the cluster's workers are up too
        before = len(marked(marker))
        os.kill(process.pid, signal.SIGKILL)  # the supervising script only: its children are not told
        process.wait()
        left = settle(marker)
        cleanup(marker)
        return before, left


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--kill-trials", type=int, default=3)
    parser.add_argument("--max-delay", type=float, default=20.0)
    parser.add_argument(
        "--serving", action="store_true", help="Ctrl-C 0 to --max-delay s after the server first answers"
    )
    args = parser.parse_args()
    failures = 0
    for n in range(1, args.trials + 1):
        delay, before, status, left = ctrl_c_trial(args.max_delay, args.serving)
        failures += bool(left)
        print(
            f"Ctrl-C trial {n:2}: after {delay:5.1f} s, {before} processes running, exit {status}, "
            f"left after 5 s: {len(left)} {left if left else ''}"
        )
        sys.stdout.flush()
    print(f"Ctrl-C: {failures} of {args.trials} trials left a process running 5 s later")
    for n in range(1, args.kill_trials + 1):
        before, left = kill_trial()
        print(
            f"SIGKILL of the supervisor (server answering), trial {n}: {before} processes running, "
            f"left after 5 s: {len(left)} "
            f"{left if left else ''}"
        )


if __name__ == "__main__":
    main()
