"""`make serve` refuses to start production without its two required settings, with a sentence; its
workers are ready before their first request."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k" * 20 + "-production-like-secret-0123456789-abcdefghij"


def preflight(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE", "HOST", "TRACKING_TRUSTED_PROXIES")
    }
    # ENV_FILE: the developer's own .env (make run writes one with a SECRET_KEY) must not answer for the test.
    clean.update(DEBUG="false", DATA_DIR=str(tmp_path), ENV_FILE=str(tmp_path / "absent.env"), **env)
    return subprocess.run(
        [sys.executable, "-m", "arkwatch.preflight"], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_serve_refuses_to_start_without_a_secret_key(tmp_path):
    result = preflight(tmp_path, ALLOWED_HOSTS="track.example.com")
    assert result.returncode == 1
    assert "Refusing to start: SECRET_KEY must be set" in result.stderr and "Traceback" not in result.stderr


def test_serve_refuses_to_start_without_allowed_hosts(tmp_path):
    result = preflight(tmp_path, SECRET_KEY=GOOD_KEY)
    assert result.returncode == 1
    assert "Démarrage refusé : ALLOWED_HOSTS est vide" in result.stderr


def test_serve_starts_with_both(tmp_path):
    result = preflight(tmp_path, SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="track.example.com")
    assert result.returncode == 0, result.stderr


def test_serve_refuses_a_proxy_setting_under_which_every_client_looks_the_same(tmp_path):
    """gunicorn on 127.0.0.1 behind the local proxy, and the proxy not trusted: every client would be
    127.0.0.1, one ceiling for all."""
    result = preflight(
        tmp_path, SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="track.example.com", TRACKING_TRUSTED_PROXIES="", HOST="127.0.0.1"
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "Démarrage refusé : gunicorn écoute sur 127.0.0.1" in result.stderr
    assert "tous les clients auraient l'air d'être 127.0.0.1" in result.stderr


def test_serve_refuses_to_trust_every_address(tmp_path):
    result = preflight(
        tmp_path, SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="track.example.com", TRACKING_TRUSTED_PROXIES="0.0.0.0/0"
    )
    assert result.returncode == 1 and "0.0.0.0/0, qui fait confiance à toutes les adresses" in result.stderr


def test_serve_refuses_a_proxy_that_is_not_an_address(tmp_path):
    result = preflight(
        tmp_path, SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="track.example.com", TRACKING_TRUSTED_PROXIES="my-proxy"
    )
    assert result.returncode == 1 and "« my-proxy » n'est ni une adresse IP" in result.stderr


def test_serve_trusts_its_own_proxy_by_default_and_a_public_listener_needs_none(tmp_path):
    base = {"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "track.example.com"}
    assert preflight(tmp_path, **base, HOST="127.0.0.1").returncode == 0
    assert preflight(tmp_path, **base, HOST="0.0.0.0", TRACKING_TRUSTED_PROXIES="").returncode == 0


def test_serve_warns_when_links_would_point_at_localhost(tmp_path):
    result = preflight(
        tmp_path, SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="track.example.com", PUBLIC_BASE_URL="http://localhost:8000"
    )
    assert result.returncode == 0, result.stderr
    assert "PUBLIC_BASE_URL vaut http://localhost:8000" in result.stderr
    assert "l'adresse que les gens atteignent" in result.stderr
    quiet = preflight(
        tmp_path, SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="track.example.com", PUBLIC_BASE_URL="https://track.example.com"
    )
    assert quiet.stderr == ""


def test_a_web_worker_is_ready_before_its_first_request(tmp_path):
    # What a worker built lazily on its first event (the URL patterns' modules, ~3,000 crawler patterns)
    # held every request queued behind it: the slowest 1 % of a minute of heartbeats.
    probe = (
        "import sys, arkwatch.wsgi; from core import bots; "
        "print(bots._judge.cache_info().currsize, 'tracking.views' in sys.modules)"
    )
    env = {**os.environ, "DEBUG": "true", "DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "arkwatch.settings"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split() == ["1", "True"], result.stderr


def test_serve_warns_when_the_landing_pages_are_on_another_site(tmp_path):
    """A page on webflow.io is another site than the founder's domain (the Public Suffix List's private
    section): ad blockers treat ArkWatch's requests as a third party's (issue 30, point 2)."""
    base = {"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "app.acme-saas.fr", "PUBLIC_BASE_URL": "https://app.acme-saas.fr"}
    result = preflight(tmp_path, **base, TRACKING_ALLOWED_ORIGINS="https://acme-saas.webflow.io")
    assert result.returncode == 0, result.stderr
    assert "n'est sur le site d'aucune page d'atterrissage" in result.stderr
    assert "https://acme-saas.webflow.io" in result.stderr
    # webflow.io itself is no company's site either: a page on another webflow.io sub-domain is still another site.
    on_webflow = preflight(
        tmp_path,
        **{**base, "PUBLIC_BASE_URL": "https://arkwatch.webflow.io"},
        TRACKING_ALLOWED_ORIGINS="https://acme-saas.webflow.io",
    )
    assert "n'est sur le site d'aucune page" in on_webflow.stderr
    same_site = preflight(
        tmp_path, **base, TRACKING_ALLOWED_ORIGINS="https://www.acme-saas.fr,https://acme-saas.webflow.io"
    )
    assert same_site.returncode == 0 and same_site.stderr == ""
