import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import ResolverMatch, resolve
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found

from arkwatch.devices import device_cookie_set, device_of
from core.client import client_ip
from core.ratelimit import Attempt, count_attempt, network_of, window_left


class AdminLoginThrottleMiddleware:
    """Slows password guessing on the admin's login form down without letting anyone lock the staff out
    (OWASP, "Slow down online guessing attacks with device cookies").

    - Only failures count: each login POST takes one unit of ADMIN_LOGIN_RATE_LIMIT per client network
      (the IPv4 address, or the IPv6 /64: one subscriber gets a whole /64 and could rotate through it) and
      per account name (an attacker with many networks still gets that many guesses per account), and a
      sign-in that succeeds gives its units back. Past the limit the answer is 429 with "try again in N s"
      (the rest of the window): a guesser is slowed down, never shut out for longer than that.
    - A browser that has signed in to this account before carries a signed device cookie: it is counted
      on its own (ADMIN_LOGIN_RATE_LIMIT per device) instead of by network and account, so an attacker
      spending the account's failures from elsewhere never keeps the staff's own browser out.

    Only POSTs that passed CSRF count: process_view runs after CsrfViewMiddleware's, which answers 403
    to a forged or token-less POST before it gets here, so nobody can spend the staff's ceiling without
    first loading the form. Why not django-axes: it keeps the raw address of every attempt in its
    tables, which this product promises not to store (docs/privacy.md), and keys on the full IPv6
    address; these counters are the shared ones every process sees (core/ratelimit.py), hashed."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.login_path = f"/{settings.ADMIN_URL}login/"

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        attempt: Attempt | None = getattr(request, "_arkwatch_login_attempt", None)
        if attempt is not None and response.status_code == 302 and request.user.is_authenticated:
            attempt.forgive()  # a success is no guess
            device_cookie_set(response, username=_login_name(request))
        return response

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., HttpResponse], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if request.method != "POST" or request.path != self.login_path:
            return None
        rate = settings.ADMIN_LOGIN_RATE_LIMIT
        username = _login_name(request)
        device = device_of(request, username=username)
        if device:
            limits: tuple[tuple[str, str], ...] = ((f"login-device:{device}", rate),)
        else:
            limits = ((f"login:{network_of(client_ip(request))}", rate), (f"login-user:{username}", rate))
        attempt = count_attempt(*limits)
        if attempt.refused:
            wait = window_left(rate)
            response = HttpResponse(
                _("Too many failed sign-ins from this network or for this account; try again in %(seconds)d s.")
                % {"seconds": wait},
                status=429,
                content_type="text/plain; charset=utf-8",
            )
            response["Retry-After"] = str(wait)
            return response
        request._arkwatch_login_attempt = attempt  # type: ignore[attr-defined]
        return None


def _login_name(request: HttpRequest) -> str:
    return str(request.POST.get("username", "")).strip().lower()[:150]


class TrackingEndpointsMiddleware:
    """The public tracking endpoints (CORS_URLS_REGEX: /api/track…, the snippet's /api/page/…, /t/…) are
    answered here, without the middleware below this one: they have no session, no user, no CSRF token
    (csrf_exempt) and no page to frame. What sits above (CORS, security headers and the HTTPS redirect,
    static files) still applies, and Django's handler still runs the request signals and the
    connection's health check. Every other path goes through the whole stack, the providers' webhooks
    (/api/webhooks/…) and inbound mail (/api/inbound/…) included: session, CSRF (their views are
    csrf_exempt for that reason), authentication, messages and frame middleware, as a page does.
    Why: the seven layers below and the URL patterns' walk were a share of a heartbeat's CPU that a
    tracking event has no use for (docs/benchmarks.md, "Figures that used to live in code comments")."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.tracking_path = re.compile(settings.CORS_URLS_REGEX)
        # The tracking routes without a variable part (the event endpoints; the webhooks never come
        # through here), resolved once: walking the URL patterns on every heartbeat cost more than this
        # lookup (docs/benchmarks.md, "Figures that used to live in code comments"). Bounded by the
        # routes themselves: only a path that is exactly one of them gets here.
        self.fixed_routes: dict[str, ResolverMatch] = {}

    def _resolve(self, path: str) -> ResolverMatch:
        match = self.fixed_routes.get(path)
        if match is None:
            match = resolve(path)
            if "<" not in match.route:  # a route with a variable part ("t/o/<str:token>.gif")
                self.fixed_routes[path] = match
        return match

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self.tracking_path.match(request.path_info):
            return self.get_response(request)
        match = self._resolve(request.path_info)
        request.resolver_match = match
        response: HttpResponse = match.func(request, *match.args, **match.kwargs)
        if not response.streaming and not response.has_header("Content-Length"):
            # What CommonMiddleware would add: keep-alive clients need it.
            response.headers["Content-Length"] = str(len(response.content))
        return response


class FrenchNotFoundMiddleware:
    """Under `make run` (DEBUG on) too, an address with nothing there gets the product's French 404
    (templates/404.html), not Django's English debug page listing every URL of the product. Only
    Django's own debug page is replaced: the API's JSON 404s and deliberate 404 pages pass untouched."""

    # Django's technical 404 page (django/views/templates/technical_404.html) and nothing else has both.
    MARKERS = (b'<meta name="robots" content="NONE,NOARCHIVE">', b"<title>Page not found at ")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and not response.streaming
            and all(marker in response.content for marker in self.MARKERS)
        ):
            return page_not_found(request, Http404())
        return response
