"""Playwright driving Debian's chromium (its own browser download cannot work here)."""

import os
import shutil
from contextlib import contextmanager

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A real visitor's user agent: HeadlessChrome is (rightly) flagged as a bot by the tracker's intake.
DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def require_chromium() -> None:
    if os.path.exists(CHROMIUM) and shutil.which("chromium"):
        return
    if os.environ.get("CI"):
        pytest.fail("Debian's chromium is missing: CI must install it (apt-get install -y chromium)")
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")


@contextmanager
def browser_page(base_url: str):
    require_chromium()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the test makes between
    # browser steps are still plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            context = browser.new_context(user_agent=DESKTOP_UA, base_url=base_url, locale="fr-FR")
            try:
                yield context.new_page()
            finally:
                context.close()
                browser.close()
                # ORM calls made inside Playwright's context got their own connection (Django's
                # connections are context-local): close it, or the test database cannot be dropped.
                from django.db import connections

                connections.close_all()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def log_in(page, username: str, password: str) -> None:
    """The admin's login form, as a person fills it."""
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
