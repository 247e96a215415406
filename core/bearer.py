"""`Authorization: Bearer <key>`: whether a request carries the key a setting holds (compared as bytes,
timing-safe; an empty setting lets nobody in)."""

import hmac

from django.http import HttpRequest


def carries_bearer_key(request: HttpRequest, expected: str) -> bool:
    scheme, _sep, key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(key.strip().encode("utf-8", errors="replace"), expected.encode())
