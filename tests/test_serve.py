"""`make serve` refuses to start production without its two required settings, with a sentence."""

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
        if k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE")
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
