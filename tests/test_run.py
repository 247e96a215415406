"""`make run` and a second terminal: the README's commands work as written, and Ctrl-C stops everything.

These run the real scripts as a user would (subprocesses, a throwaway SQLite database and .env), with
ENV_FILE pointing at a temporary file so that the developer's own .env is never read or written.
"""

import ast
import importlib.metadata
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from bench.processes import answers_healthz, free_port

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


def kill_all(pids: set[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def start_run(env: dict[str, str], out, err) -> subprocess.Popen:
    """bin/run as a terminal's foreground job: its own session (Ctrl-C is SIGINT to the whole group),
    SIGINT not ignored even when the tests themselves run in the background."""
    return subprocess.Popen(
        [str(ROOT / "bin" / "run")],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=err,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_until_it_answers(process: subprocess.Popen, port: int, stderr_path: Path) -> None:
    deadline = time.monotonic() + 120
    while not answers_healthz(port):
        assert process.poll() is None and time.monotonic() < deadline, stderr_path.read_text()
        time.sleep(0.2)
    time.sleep(1)  # the cluster's workers are up too


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
    assert links.returncode == 0 and "Lien suivi :" in links.stdout, links.stderr
    assert "http://127.0.0.1:8000/t/c/" in links.stdout
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
        process = start_run(env, out, err)
    try:
        wait_until_it_answers(process, port, stderr_path)
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
            kill_all(descendants(process.pid))
            process.wait()
    stderr = stderr_path.read_text(errors="replace")
    assert "wait:" not in stderr and "No child processes" not in stderr and "Traceback" not in stderr


def test_a_second_make_run_on_the_same_data_is_refused_and_the_address_never_left_stale(tmp_path):
    """One worker cluster per SQLite database: a second `make run` on the same data/, even on another
    port, says so and changes nothing; the served address printed for step 3 is this server's, and it
    is forgotten when the server stops."""
    port, other = free_port(), free_port()
    env = fresh_shell_env(tmp_path, PORT=str(port), ADMIN_PASSWORD="pw-for-tests-only-42")
    stderr_path = tmp_path / "stderr"
    with open(tmp_path / "stdout", "wb") as out, open(stderr_path, "wb") as err:
        process = start_run(env, out, err)
    try:
        wait_until_it_answers(process, port, stderr_path)
        printed = (tmp_path / "stdout").read_text()
        assert f"--url http://127.0.0.1:{port}/audit-gratuit-monitoring.html" in printed
        served_at = tmp_path / "data" / "served-at"
        assert served_at.read_text().strip() == f"http://127.0.0.1:{port}"

        second = subprocess.run(
            [str(ROOT / "bin" / "run")],
            cwd=ROOT,
            env={**env, "PORT": str(other)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        assert f"un autre make run utilise déjà {tmp_path / 'data'}/" in second.stderr
        assert f"http://127.0.0.1:{port}" in second.stderr and "Traceback" not in second.stderr
        assert served_at.read_text().strip() == f"http://127.0.0.1:{port}", "the running server's address stays"
        assert not answers_healthz(other)

        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=10)
        assert not served_at.exists(), "a stopped server's address must not be left for the next command"
    finally:
        if process.poll() is None or group_exists(process.pid):
            kill_all(descendants(process.pid))
            process.wait()


def test_if_the_supervisor_is_killed_its_children_die_with_it(tmp_path):
    """SIGKILL leaves bin/run no chance to stop anything: the kernel's parent-death signal does."""
    port = free_port()
    env = fresh_shell_env(tmp_path, PORT=str(port), ADMIN_PASSWORD="pw-for-tests-only-42")
    stderr_path = tmp_path / "stderr"
    with open(tmp_path / "stdout", "wb") as out, open(stderr_path, "wb") as err:
        process = start_run(env, out, err)
    processes: set[int] = set()
    try:
        wait_until_it_answers(process, port, stderr_path)
        processes = descendants(process.pid) - {process.pid}
        assert len(processes) >= 3, "runserver, the qcluster master and its sentinel at least"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 15  # a bound for a loaded machine, not a measure (bench/stop.py)
        while {pid for pid in processes if running(pid)} and time.monotonic() < deadline:
            time.sleep(0.1)
        assert {pid for pid in processes if running(pid)} == set(), "orphans left behind"
        assert not answers_healthz(port), "nothing holds the port for the next make run"
    finally:
        kill_all(processes)


def test_a_server_left_on_the_port_is_named_with_what_to_do(tmp_path):
    port = free_port()
    env = fresh_shell_env(tmp_path, PORT=str(port), DEBUG="true")
    with socket.socket() as stale:
        stale.bind(("127.0.0.1", port))
        stale.listen()
        result = subprocess.run(
            [PYTHON, "-m", "arkwatch.preflight", "--run"], cwd=ROOT, env=env, capture_output=True, text=True
        )
    assert result.returncode == 1
    assert f"Le port {port} est déjà pris par le processus {os.getpid()}" in result.stderr
    assert f"kill {os.getpid()}" in result.stderr and "PORT=8001 make run" in result.stderr
    assert "Traceback" not in result.stderr


def test_links_follow_the_port_make_run_serves_on(tmp_path):
    env = fresh_shell_env(tmp_path, PORT="18900", DEBUG="true")
    assert manage(env, "migrate", "--no-input", "-v", "0").returncode == 0
    assert manage(env, "import_prospects", "examples/prospects.example.json").returncode == 0
    links = manage(env, "email_links", "--email", "hugo@fictif-saas.example", "--message-id", "m1")
    assert "http://127.0.0.1:18900/t/o/" in links.stdout, links.stderr
    # A second terminal (no PORT) follows where make run serves: bin/run leaves the address in DATA_DIR.
    assert 'SERVED="http://$LINK_HOST:$PORT"' in (ROOT / "bin" / "run").read_text()
    assert 'echo "$SERVED" > "$DATA/served-at"' in (ROOT / "bin" / "run").read_text()
    (tmp_path / "data" / "served-at").write_text("http://127.0.0.1:18900\n")
    second = fresh_shell_env(tmp_path, DEBUG="true")
    links = manage(second, "email_links", "--email", "hugo@fictif-saas.example", "--message-id", "m1")
    assert "http://127.0.0.1:18900/t/o/" in links.stdout, links.stderr
    # A PUBLIC_BASE_URL left on another port (an old .env) is pointed out at start.
    stale = fresh_shell_env(tmp_path, PORT="18900", DEBUG="true", PUBLIC_BASE_URL="http://127.0.0.1:8000")
    result = subprocess.run(
        [PYTHON, "-m", "arkwatch.preflight", "--run"], cwd=ROOT, env=stale, capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "PUBLIC_BASE_URL vaut http://127.0.0.1:8000 mais le serveur répond sur http://127.0.0.1:18900" in (
        result.stderr
    )


def test_make_run_installs_what_running_needs_and_make_test_what_testing_needs(tmp_path):
    def planned(target: str) -> str:
        fresh = f"VENV={tmp_path / 'venv'}"
        return subprocess.run(["make", "-n", target, fresh], cwd=ROOT, capture_output=True, text=True).stdout

    run, test, install = planned("run"), planned("test"), planned("install")
    assert "pip install --quiet -e .\n" in run and "[test" not in run
    assert '-e ".[test]"' in test and "dev" not in test
    assert '-e ".[test,dev]"' in install  # CI: .ci/run runs `make test` first, then `make install` for lint


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s\[<>=!~;]", req, maxsplit=1)[0].lower().replace("_", "-") for req in requirements}


def _names_a_package_to_load(node: ast.AST) -> bool:
    """`importlib.resources.files("pkg")` or `importlib.import_module("pkg")`: an import all the same."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("files", "import_module")
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def test_every_package_a_test_imports_is_installed_by_make_test():
    """`make test` on a fresh machine installs the product and the `test` extra only: a test importing a
    package of the `dev` extra (fake-useragent once) fails there with ModuleNotFoundError."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    installed = _requirement_names(project["dependencies"] + project["optional-dependencies"]["test"])
    distributions = importlib.metadata.packages_distributions()
    own = {path.name for path in ROOT.iterdir() if (path / "__init__.py").is_file()}
    missing = {}
    for test_file in sorted((ROOT / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(test_file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            elif _names_a_package_to_load(node):
                modules = [node.args[0].value]  # type: ignore[attr-defined]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top in own:
                    continue
                names = {name.lower().replace("_", "-") for name in distributions.get(top, [top])}
                if not names & installed:
                    missing[top] = test_file.name
    assert missing == {}, f"imported by tests but not in the product nor the test extra: {missing}"
