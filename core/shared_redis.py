"""The Redis client `/healthz` asks, when REDIS_URL is set (django-q2's broker and Django's cache use
their own): Redis is the task broker, so an outage is reported, while ingest and its limits, which
live beside the database (core/ratelimit.py), go on as they are."""

from functools import lru_cache
from typing import Any

from django.conf import settings


@lru_cache(maxsize=1)
def shared_redis() -> Any:
    """One Redis client per process (its own connection pool) when REDIS_URL is set, else None."""
    if not settings.REDIS_URL:
        return None
    import redis  # optional at import time: only deployments with REDIS_URL need it

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)


def forget_redis() -> None:
    """Drop the client (tests that point REDIS_URL elsewhere)."""
    shared_redis.cache_clear()


def redis_problem() -> str | None:
    """Why the configured Redis cannot be used right now, or None when it answers (or is not configured)."""
    client = shared_redis()
    if client is None:
        return None
    try:
        client.ping()
    except Exception as exc:
        return f"Redis unreachable: {exc}"[:200]
    return None
