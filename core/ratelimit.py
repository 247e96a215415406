"""Rate-limit counters shared by every process: one atomic INCR on Redis when REDIS_URL is set,
add/incr on the local cache otherwise (per process)."""

import re
import time
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import cache

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smh])\s*$")
_PERIODS = {"s": 1, "m": 60, "h": 3600}


@lru_cache(maxsize=8)
def parse_rate(rate: str) -> tuple[int, int]:
    """'300/m' -> (300, 60); '10/5s' -> (10, 5)."""
    match = _RATE.match(rate or "")
    if not match:
        raise ValueError(f"TRACKING_RATE_LIMIT must look like 300/m, not {rate!r}")
    count, multiplier, unit = match.groups()
    return int(count), int(multiplier or 1) * _PERIODS[unit]


@lru_cache(maxsize=1)
def shared_redis() -> Any:
    """One Redis client per process (its own connection pool) when REDIS_URL is set, else None.

    The hot path talks to Redis directly: Django's cache builds a client object per call, which
    costs more than the round trip itself."""
    if not settings.REDIS_URL:
        return None
    import redis  # optional at import time: only deployments with REDIS_URL need it

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)


# One atomic round trip: increment the window's counter and give it its expiry on first use.
COUNTER_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


@lru_cache(maxsize=1)
def _counter_script(client: Any) -> Any:
    return client.register_script(COUNTER_SCRIPT)


def is_rate_limited(key: str, rate: str | None = None) -> bool:
    """Fixed-window counter for `key`: True once it went past the rate in the current window."""
    limit, period = parse_rate(rate or settings.TRACKING_RATE_LIMIT)
    window = int(time.time() // period)
    cache_key = f"arkwatch:rl:{key}:{window}"
    client = shared_redis()
    if client is not None:
        try:
            return int(_counter_script(client)(keys=[cache_key], args=[period + 1])) > limit
        except Exception:  # Redis down: let the event in rather than answer 5xx
            return False
    if cache.add(cache_key, 1, timeout=period + 1):
        return limit < 1
    try:
        return cache.incr(cache_key) > limit
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=period + 1)
        return False
