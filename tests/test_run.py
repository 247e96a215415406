"""`make run` and a second terminal: the README's commands work as written, and Ctrl-C stops everything.

These run the real scripts as a user would (subprocesses, a throwaway SQLite database and .env), with
ENV_FILE pointing at a temporary file so that the developer's own .env is never read or written.
"""

import http.client
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def fresh_shell_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A new terminal: none of the variables bin/run or the test settings export, a private .env path."""
    dropped = ("DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS")
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("PYTEST")}
    env.update(DATA_DIR=str(tmp_path / "data"), ENV_FILE=str(tmp_path / ".env"), **extra)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        connection.request("GET", "/healthz")
        connection.getresponse()
        return True
    except OSError:
        return False


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        found.add(current)
        todo += children.get(current, [])
    return found


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def test_a_second_terminal_works_after_make_run_wrote_its_env_file(tmp_path):
    env = fresh_shell_env(tmp_path)
    # Before: a fresh shell has no DEBUG and no SECRET_KEY; one sentence, no traceback.
    before = manage(env, "check")
    assert before.returncode == 1
    assert "SECRET_KEY must be set" in before.stderr and "Traceback" not in before.stderr
    assert len(before.stderr.strip().splitlines()) == 1

    # What `make run` does first (bin/run), then the README's commands in the other terminal.
    subprocess.run([PYTHON, "-m", "arkwatch.devenv"], cwd=ROOT, env=env, check=True, capture_output=True)
    written = (tmp_path / ".env").read_text()
    assert "DEBUG=true" in written
    key = next(line.split("=", 1)[1] for line in written.splitlines() if line.startswith("SECRET_KEY="))
    assert len(key) >= 50
    assert manage(env, "migrate", "--no-input", "-v", "0").returncode == 0
    imported = manage(env, "import_prospects", "examples/prospects.example.json")
    assert imported.returncode == 0, imported.stderr
    assert "3 créé" in imported.stdout
    links = manage(
        env,
        "email_links",
        "--email",
        "hugo@fictif-saas.example",
        "--message-id",
        "m1",
        "--url",
        "http://127.0.0.1:8000/audit-gratuit-monitoring.html",
    )
    assert links.returncode == 0 and "link:  http://127.0.0.1:8000/t/c/" in links.stdout, links.stderr
    status = manage(env, "monitoring_status")
    assert status.returncode == 0, status.stderr

    # A second `make run` keeps the file (and so the key that signed the links already sent).
    subprocess.run([PYTHON, "-m", "arkwatch.devenv"], cwd=ROOT, env=env, check=True, capture_output=True)
    assert (tmp_path / ".env").read_text() == written


def test_a_copied_env_example_is_a_working_development_setup(tmp_path):
    env = fresh_shell_env(tmp_path)
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    result = manage(env, "check")
    assert result.returncode == 0, result.stderr


def test_ctrl_c_stops_the_web_server_and_the_cluster_within_five_seconds(tmp_path):
    port = free_port()
    env = fresh_shell_env(tmp_path, PORT=str(port), ADMIN_PASSWORD="pw-for-tests-only-42")
    stderr_path = tmp_path / "stderr"
    with open(tmp_path / "stdout", "wb") as out, open(stderr_path, "wb") as err:
        # Its own session, like a terminal's foreground job: Ctrl-C is SIGINT to the whole group.
        process = subprocess.Popen(
            [str(ROOT / "bin" / "run")], cwd=ROOT, env=env, stdout=out, stderr=err, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 90
        while not answers(port):
            assert process.poll() is None and time.monotonic() < deadline, stderr_path.read_text()
            time.sleep(0.2)
        time.sleep(1)  # the cluster's workers are up too
        processes = descendants(process.pid)
        assert len(processes) >= 4, "bin/run, runserver, the qcluster master and its sentinel at least"

        os.killpg(process.pid, signal.SIGINT)
        stopped_at = time.monotonic() + 5
        while time.monotonic() < stopped_at and ({pid for pid in processes if running(pid)} or process.poll() is None):
            time.sleep(0.05)
        left = {pid for pid in processes if running(pid)}
        assert not left, f"still running 5 s after Ctrl-C: {left}"
        assert process.wait(timeout=1) == 0, "a requested stop is not an error (make prints nothing)"
        assert not group_exists(process.pid)
    finally:
        if process.poll() is None or group_exists(process.pid):
            for pid in descendants(process.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            process.wait()
    stderr = stderr_path.read_text(errors="replace")
    assert "wait:" not in stderr and "No child processes" not in stderr and "Traceback" not in stderr
