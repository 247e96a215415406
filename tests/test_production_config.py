"""Issue 29, point 12: a configuration that works and keeps its secrets.

- A `.env` copied from `.env.example` (DEBUG=true, `SECRET_KEY=` empty) signed tokens with the public
  development key; the product now refuses to start that way once ALLOWED_HOSTS names a host other
  machines reach.
- The README's nginx lines, run against the production settings: a request through them is served,
  not redirected to HTTPS again (the loop a missing `X-Forwarded-Proto` makes).
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_KEY = "k" * 20 + "-production-like-secret-0123456789-abcdefghij"


def _clean_env(**env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE")}
    # The developer's own .env (make run writes one with a SECRET_KEY) must not answer for the test.
    clean["ENV_FILE"] = str(ROOT / "tests" / "no-such.env")
    clean.update(env)
    return clean


def _check(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=_clean_env(**env), capture_output=True, text=True
    )


@pytest.mark.parametrize("hosts", ["track.example.com", "localhost,track.example.com", "*", "192.0.2.10"])
def test_debug_without_a_secret_key_refuses_to_start_once_other_machines_can_reach_it(tmp_path, hosts):
    result = _check(DEBUG="true", SECRET_KEY="", ALLOWED_HOSTS=hosts, DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY is empty while ALLOWED_HOSTS names" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, "one sentence, not a traceback"


@pytest.mark.parametrize("hosts", ["", "localhost,127.0.0.1,[::1]", "app.localhost"])
def test_debug_on_this_machine_alone_still_starts_with_the_development_key(tmp_path, hosts):
    env = {"DEBUG": "true", "SECRET_KEY": "", "DATA_DIR": str(tmp_path)}
    if hosts:
        env["ALLOWED_HOSTS"] = hosts
    result = _check(**env)
    assert result.returncode == 0, result.stderr


def test_debug_with_a_secret_key_may_name_any_host(tmp_path):
    result = _check(DEBUG="true", SECRET_KEY=PRODUCTION_KEY, ALLOWED_HOSTS="track.example.com", DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr


# --- Behind the README's nginx ------------------------------------------------------------------


def readme_nginx_headers() -> dict[str, str]:
    """The headers the README's nginx block sets, as nginx would send them for a browser's HTTPS
    request to track.example.com from 198.51.100.7."""
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```nginx\n(.*?)```", readme, re.DOTALL)
    assert blocks, "the README shows no nginx configuration"
    values = {"$host": "track.example.com", "$scheme": "https", "$proxy_add_x_forwarded_for": "198.51.100.7"}
    headers = {}
    for name, value in re.findall(r"proxy_set_header\s+(\S+)\s+(\S+?);", blocks[0]):
        headers[name] = values.get(value, value)
    assert "proxy_pass http://127.0.0.1:8000;" in blocks[0]
    return headers


# Runs with the production settings (DEBUG off, SSL redirect on, BEHIND_PROXY default): one request as
# nginx forwards it, one as it would without X-Forwarded-Proto.
REQUEST_SCRIPT = """
import json, sys
import django
django.setup()
from django.test import Client
headers = json.loads(sys.argv[1])
meta = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
meta["REMOTE_ADDR"] = "127.0.0.1"
answers = {}
for label, extra in (("as forwarded", meta), ("without X-Forwarded-Proto", {
        k: v for k, v in meta.items() if k != "HTTP_X_FORWARDED_PROTO"})):
    response = Client(**extra).get("/admin/login/")
    answers[label] = [response.status_code, response.get("Location", "")]
print(json.dumps(answers))
"""


def test_a_request_through_the_readme_nginx_is_served_not_redirected_again(tmp_path):
    headers = readme_nginx_headers()
    assert headers.get("X-Forwarded-Proto") == "https"
    env = _clean_env(
        DJANGO_SETTINGS_MODULE="arkwatch.settings",
        DEBUG="false",
        SECRET_KEY=PRODUCTION_KEY,
        ALLOWED_HOSTS="track.example.com",
        PUBLIC_BASE_URL="https://track.example.com",
        DATA_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "-c", REQUEST_SCRIPT, json.dumps(headers)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert answers["as forwarded"] == [200, ""]
    # Without the header, the same HTTPS request is sent to HTTPS again: the loop the README avoids.
    assert answers["without X-Forwarded-Proto"] == [301, "https://track.example.com/admin/login/"]
