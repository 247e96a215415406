"""The WSGI application of gunicorn's workers (bin/serve web) and of `make run`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arkwatch.settings")
application = get_wsgi_application()

# Imported once the apps are loaded (get_wsgi_application sets Django up).
from django.urls import resolve  # noqa: E402

from core.bots import names_a_machine  # noqa: E402


def _warm_up() -> None:
    """Build now what a worker would otherwise build on its first request, while requests queue behind
    it: the URL patterns (their modules' imports) and the crawler lists (~3,000 patterns compiled).
    That was ~150 ms of CPU per worker on its first event — on a loaded server several hundred ms, the
    slowest 1 % of a whole minute of heartbeats (docs/benchmarks.md, "The request path before and after
    issue 19")."""
    resolve("/healthz")
    names_a_machine("")


_warm_up()
