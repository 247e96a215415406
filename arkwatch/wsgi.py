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
    it: the URL patterns (their modules' imports) and the crawler lists (their patterns compiled).
    Built on a worker's first event, they held every request queued behind it: enough to make the
    slowest of a whole minute of heartbeats (docs/benchmarks.md, "Figures that used to live in code comments")."""
    resolve("/healthz")
    names_a_machine("")


_warm_up()
