import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.urls import ResolverMatch, get_urlconf, resolve
from django.utils.translation import gettext as _

from core.client import client_ip
from core.ratelimit import network_of, rate_limited


class AdminLoginThrottleMiddleware:
    """At most ADMIN_LOGIN_RATE_LIMIT login attempts on the admin's login form per client network
    (the IPv4 address, or the IPv6 /64: one subscriber gets a whole /64 and could rotate through it)
    and per account name (an attacker with many networks still gets that many guesses per account).

    Only POSTs that passed CSRF count: process_view runs after CsrfViewMiddleware's, which answers 403
    to a forged or token-less POST before it gets here, so nobody can spend the staff's ceiling without
    first loading the form. Why not django-axes: it keeps the raw address of every attempt in its
    tables, which this product promises not to store (docs/privacy.md), and keys on the full IPv6
    address; these counters are the shared ones every process sees (core/ratelimit.py), hashed."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.login_path = f"/{settings.ADMIN_URL}login/"

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., HttpResponse], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if request.method != "POST" or request.path != self.login_path:
            return None
        rate = settings.ADMIN_LOGIN_RATE_LIMIT
        username = str(request.POST.get("username", "")).strip().lower()[:150]
        if rate_limited((f"login:{network_of(client_ip(request))}", rate), (f"login-user:{username}", rate)):
            return HttpResponse(
                _("Too many login attempts from this network or for this account; wait a minute and retry."),
                status=429,
                content_type="text/plain; charset=utf-8",
            )
        return None


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
