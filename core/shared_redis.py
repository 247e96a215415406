"""The Redis client every process shares when REDIS_URL is set (django-q2's broker and cache use their
own), with a short memory of failures: the dwell crossing asks it once per page view, `/healthz` asks
whether it answers.

When Redis fails, the process stops asking it for REDIS_RETRY_SECONDS, so a hung Redis costs one
socket timeout per process, not one per request.
"""

import logging
import time
from functools import lru_cache
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

# How long a process leaves Redis alone after a failure before trying it again.
REDIS_RETRY_SECONDS = 5.0


@lru_cache(maxsize=1)
def shared_redis() -> Any:
    """One Redis client per process (its own connection pool) when REDIS_URL is set, else None.

    The hot path talks to Redis directly: Django's cache builds a client object per call, which
    costs more than the round trip itself."""
    if not settings.REDIS_URL:
        return None
    import redis  # optional at import time: only deployments with REDIS_URL need it

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)


class _RedisBreaker:
    """Remembers, per process, that Redis just failed."""

    down_until = 0.0


def usable_redis() -> Any:
    """The shared Redis client, or None when none is configured or it failed a moment ago."""
    client = shared_redis()
    if client is None or time.monotonic() < _RedisBreaker.down_until:
        return None
    return client


def redis_failed(exc: Exception) -> None:
    """Leave Redis alone for a few seconds; say so once per outage in the log."""
    if time.monotonic() >= _RedisBreaker.down_until:
        logger.warning("Redis unreachable (%s): using the database for now", exc)
    _RedisBreaker.down_until = time.monotonic() + REDIS_RETRY_SECONDS


def forget_redis() -> None:
    """Drop the client and the failure memory (tests that point REDIS_URL elsewhere)."""
    shared_redis.cache_clear()
    _RedisBreaker.down_until = 0.0


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
