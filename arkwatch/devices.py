"""Device cookies (OWASP, "Slow down online guessing attacks with device cookies"): a browser in which
someone signed in to an account gets a signed cookie naming that account and a random nonce. On the
login form, such a browser is counted on its own nonce rather than by network and account name, so
failures an attacker spends on the account elsewhere never keep it out (arkwatch/middleware.py).

The cookie proves only that this browser signed in to that account once (it is signed with SECRET_KEY:
rotating the key revokes them all); it never signs anyone in, and a device that guesses is limited by
the same ADMIN_LOGIN_RATE_LIMIT as anyone."""

import secrets

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

DEVICE_COOKIE = "arkwatch_device"
DEVICE_SALT = "arkwatch.login-device"
# How long a browser stays known after its last sign-in (each sign-in renews it).
DEVICE_MAX_AGE_SECONDS = 180 * 24 * 3600


def device_of(request: HttpRequest, *, username: str) -> str:
    """The nonce of this browser's valid device cookie for `username` (lower case), or "" when it has
    none, it expired, it was altered, or it names another account."""
    value = request.COOKIES.get(DEVICE_COOKIE, "")
    if not value or not username:
        return ""
    try:
        data = signing.loads(value, salt=DEVICE_SALT, max_age=DEVICE_MAX_AGE_SECONDS)
    except signing.BadSignature:
        return ""
    if not isinstance(data, dict) or data.get("u") != username or not isinstance(data.get("n"), str):
        return ""
    return str(data["n"])


def device_cookie_set(response: HttpResponse, *, username: str) -> None:
    """Mark this browser as one that signed in to `username` (a new nonce at each sign-in)."""
    value = signing.dumps({"u": username, "n": secrets.token_urlsafe(16)}, salt=DEVICE_SALT)
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=DEVICE_MAX_AGE_SECONDS,
        path=f"/{settings.ADMIN_URL}",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
