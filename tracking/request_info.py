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
    peer = _parse_ip(request.META.get("REMOTE_ADDR", ""))
    proxies = _trusted_proxies()
    if peer is None or not proxies or not any(peer in net for net in proxies):
        return str(peer) if peer else None
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = _parse_ip(hop)
        if address is None:
            break
        if not any(address in net for net in proxies):
            return str(address)
    return str(peer)


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


def is_rate_limited(key: str, rate: str | None = None) -> bool:
    """Fixed-window counter in the cache: atomic INCR on Redis, per process on the local cache."""
    limit, period = parse_rate(rate or settings.TRACKING_RATE_LIMIT)
    window = int(time.time() // period)
    cache_key = f"rl:{key}:{window}"
    if cache.add(cache_key, 1, timeout=period + 1):
        return limit < 1
    try:
        return cache.incr(cache_key) > limit
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=period + 1)
        return False
