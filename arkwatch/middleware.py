from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _

from core.client import client_ip
from core.ratelimit import is_rate_limited


class AdminLoginThrottleMiddleware:
    """At most ADMIN_LOGIN_RATE_LIMIT login attempts per client IP on the admin's login form
    (password guessing against the back office)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.login_path = f"/{settings.ADMIN_URL}login/"

    def __call__(self, request):
        if request.method == "POST" and request.path == self.login_path:
            if is_rate_limited(f"login:{client_ip(request)}", settings.ADMIN_LOGIN_RATE_LIMIT):
                return HttpResponse(
                    _("Too many login attempts from this address; wait a minute and retry."),
                    status=429,
                    content_type="text/plain; charset=utf-8",
                )
        return self.get_response(request)
