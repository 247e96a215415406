"""Who is asking: client IP (trusting X-Forwarded-For only from our proxies), its anonymised form,
bot detection, and a per-client rate limit."""

import ipaddress
import re
import time
from functools import lru_cache

from crawlerdetect import CrawlerDetect
from django.conf import settings
from django.core.cache import cache

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smh])\s*$")
_PERIODS = {"s": 1, "m": 60, "h": 3600}


@lru_cache(maxsize=1)
def _trusted_proxies() -> tuple:
    return tuple(ipaddress.ip_network(p, strict=False) for p in settings.TRACKING_TRUSTED_PROXIES)


def _parse_ip(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or the right-most untrusted X-Forwarded-For hop when the peer is a trusted proxy."""
    proxies = _trusted_proxies()
    remote = request.META.get("REMOTE_ADDR", "")
    if not proxies:  # the common case, kept cheap: the WSGI server sets REMOTE_ADDR itself
        return remote or None
    peer = _parse_ip(remote)
    if peer is None or not any(peer in net for net in proxies):
        return str(peer) if peer else None
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = _parse_ip(hop)
        if address is None:
            break
        if not any(address in net for net in proxies):
            return str(address)
    return str(peer)


@lru_cache(maxsize=4096)
def anonymize_ip(ip: str | None) -> str | None:
    """Keep the network, drop the host: IPv4 /24, IPv6 /48. The raw address is never stored."""
    address = _parse_ip(ip or "")
    if address is None:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def clean_header(value: str, limit: int = 512) -> str:
    # No CR/LF or other control characters reach a log line or the admin (CWE-117).
    return _CONTROL_CHARS.sub(" ", value or "")[:limit]


@lru_cache(maxsize=1)
def _crawler_detect() -> CrawlerDetect:
    return CrawlerDetect()


@lru_cache(maxsize=4096)
def is_bot_user_agent(user_agent: str) -> bool:
    """Crawlers, scripts and headless browsers (crawlerdetect's maintained patterns). No UA is a bot."""
    if not user_agent.strip():
        return True
    return _crawler_detect().is_crawler(user_agent)


@lru_cache(maxsize=8)
def parse_rate(rate: str) -> tuple[int, int]:
    """'300/m' -> (300, 60); '10/5s' -> (10, 5)."""
    match = _RATE.match(rate or "")
    if not match:
        raise ValueError(f"TRACKING_RATE_LIMIT must look like 300/m, not {rate!r}")
    count, multiplier, unit = match.groups()
    return int(count), int(multiplier or 1) * _PERIODS[unit]


@lru_cache(maxsize=1)
def shared_redis():
    """One Redis client per process (its own connection pool) when REDIS_URL is set, else None.

    The hot path talks to Redis directly: Django's cache builds a client object per call, which
    costs more than the round trip itself."""
    if not settings.REDIS_URL:
        return None
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)


def is_rate_limited(key: str, rate: str | None = None) -> bool:
    """Fixed-window counter: one atomic round trip on Redis (the intake script, without a page view),
    shared by every process; add/incr on the local-memory cache (per process) without Redis."""
    limit, period = parse_rate(rate or settings.TRACKING_RATE_LIMIT)
    window = int(time.time() // period)
    cache_key = f"arkwatch:rl:{key}:{window}"
    client = shared_redis()
    if client is not None:
        try:
            count, _crossed = _ingest_script(client)(keys=[cache_key, ""], args=[period + 1, 0, 0, 0])
            return int(count) > limit
        except Exception:  # Redis down: let the event in rather than answer 5xx
            return False
    if cache.add(cache_key, 1, timeout=period + 1):
        return limit < 1
    try:
        return cache.incr(cache_key) > limit
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=period + 1)
        return False


# One script, one round trip, atomic: the rate-limit counter, and the page view's first receive time
# with a "crossed" flag set by the first event past the dwell threshold.
INGEST_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if KEYS[2] == '' then return {count, 0} end
redis.call('SET', KEYS[2], ARGV[2], 'NX', 'EX', ARGV[3])
local first = tonumber(redis.call('GET', KEYS[2]))
if tonumber(ARGV[2]) - first < tonumber(ARGV[4]) then return {count, 0} end
local crossed = redis.call('SET', KEYS[2] .. ':crossed', 1, 'NX', 'EX', ARGV[3])
if crossed then return {count, 1} end
return {count, 0}
"""


@lru_cache(maxsize=1)
def _ingest_script(client):
    return client.register_script(INGEST_SCRIPT)


def ingest_counters(
    *, client_key: str, page_view_id: str | None, now_ts: float, dwell_seconds: int, memory_seconds: int
) -> tuple[bool, bool]:
    """(rate limited?, page view just crossed the dwell threshold?) in one Redis round trip.

    The browser-event intake is the hottest path: its rate-limit counter and the page view's first
    receive time share one Lua script. Without Redis the local cache does the same per process.
    The dwell answer only decides whether to ask for a detection cycle now; detection itself
    measures dwell from the stored events, so a forgotten stamp only delays the SMS to the next
    scheduled cycle.
    """
    limit, period = parse_rate(settings.TRACKING_RATE_LIMIT)
    rate_key = f"arkwatch:rl:{client_key}:{int(now_ts // period)}"
    first_key = f"arkwatch:pv-first:{page_view_id}"
    client = shared_redis()
    if client is None:
        limited = is_rate_limited(client_key)
        if limited or not page_view_id:
            return limited, False
        cache.add(first_key, now_ts, timeout=memory_seconds)
        first = cache.get(first_key, now_ts)
        crossed = now_ts - first >= dwell_seconds and cache.add(f"{first_key}:crossed", 1, timeout=memory_seconds)
        return False, bool(crossed)
    try:
        count, crossed = _ingest_script(client)(
            keys=[rate_key, first_key if page_view_id else ""],
            args=[period + 1, now_ts, memory_seconds, dwell_seconds],
        )
        return int(count) > limit, bool(crossed)
    except Exception:  # Redis unavailable: accept the event rather than answer 5xx
        return False, False
