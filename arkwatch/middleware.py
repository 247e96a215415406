from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
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
