import re
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.urls import ResolverMatch, get_urlconf, resolve
from django.utils.translation import gettext as _

from core.client import client_ip
from core.ratelimit import is_rate_limited


class AdminLoginThrottleMiddleware:
    """At most ADMIN_LOGIN_RATE_LIMIT login attempts per client IP on the admin's login form
    (password guessing against the back office)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.login_path = f"/{settings.ADMIN_URL}login/"

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path == self.login_path:
            if is_rate_limited(f"login:{client_ip(request)}", settings.ADMIN_LOGIN_RATE_LIMIT):
                return HttpResponse(
                    _("Too many login attempts from this address; wait a minute and retry."),
                    status=429,
                    content_type="text/plain; charset=utf-8",
                )
        return self.get_response(request)


class TrackingFastPath:
    """The public tracking endpoints (LEAN_URLS_REGEX) skip the rest of the middleware stack: they
    have no session, no user, no CSRF token (csrf_exempt), no trailing-slash redirects and no HTML to
    frame. Everything above this middleware (CORS, security headers and HTTPS redirect, static files,
    the language) still applies.

    They also skip Django's per-request connection health check (CONN_HEALTH_CHECKS, a `SELECT 1`
    before the first query): instead, a request whose connection turns out dead (the database
    restarted) reconnects and runs once more. The event's INSERT is its first statement (on PostgreSQL
    one statement with the rate-limit counters), so a dead connection fails before
    anything is stored; at worst the retried request is counted twice against its limits. Only a
    database that dies between the INSERT and the dwell check could store one event twice, which
    detection's evidence keys absorb."""

    # Resolved paths without a variable part remembered; bounded, since any client can send paths.
    MAX_REMEMBERED = 64

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.lean = re.compile(settings.LEAN_URLS_REGEX)
        self.resolved: dict[tuple[str | None, str], ResolverMatch] = {}

    def _resolve(self, path: str) -> ResolverMatch:
        """resolve(), remembered for the endpoints without a variable part (the event endpoints):
        walking every URL pattern before them cost about 10 µs per event, as much as validating it."""
        key = (get_urlconf(), path)
        match = self.resolved.get(key)
        if match is None:
            match = resolve(path)
            # A route with a variable part ("t/o/<str:token>.gif") has a "<" in it.
            if "<" not in match.route and len(self.resolved) < self.MAX_REMEMBERED:
                self.resolved[key] = match
        return match

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self.lean.match(request.path_info):
            return self.get_response(request)
        match = self._resolve(request.path_info)
        request.resolver_match = match
        connection.health_check_done = True  # type: ignore[attr-defined]  # Django's private flag
        try:
            response = match.func(request, *match.args, **match.kwargs)
        except (InterfaceError, OperationalError):
            connection.close()
            response = match.func(request, *match.args, **match.kwargs)
        if not response.streaming and not response.has_header("Content-Length"):
            # What CommonMiddleware would add: keep-alive clients need it.
            response.headers["Content-Length"] = str(len(response.content))
        return response
