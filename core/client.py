"""Who is asking: the client's IP (trusting X-Forwarded-For only from our proxies), its anonymised
network, cleaned headers, and whether its user agent is a crawler or a script."""

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest

from core.bots import USER_AGENT_MAX_LENGTH, names_a_machine

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
# Only the right-most hops of X-Forwarded-For are read (the client is the last one our proxies did not
# add): a client can send 8 KB of hops, and parsing each would cost per request.
FORWARDED_FOR_MAX_LENGTH = 512


@lru_cache(maxsize=1)
def _trusted_proxies() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in settings.TRACKING_TRUSTED_PROXIES)


@receiver(setting_changed)
def _forget_trusted_proxies(*, setting: str, **kwargs: object) -> None:
    if setting == "TRACKING_TRUSTED_PROXIES":
        _trusted_proxies.cache_clear()
        _forwarded_client.cache_clear()


def _parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or the right-most untrusted X-Forwarded-For hop when the peer is a trusted proxy."""
    remote = request.META.get("REMOTE_ADDR", "")
    if not _trusted_proxies():  # no proxy in front: the WSGI server sets REMOTE_ADDR itself
        return remote or None
    return _forwarded_client(remote, request.META.get("HTTP_X_FORWARDED_FOR", "")[-FORWARDED_FOR_MAX_LENGTH:])


@lru_cache(maxsize=4096)  # a reader sends an event every 15 s through the same proxy and hops
def _forwarded_client(remote: str, forwarded_for: str) -> str | None:
    proxies = _trusted_proxies()
    peer = _parse_ip(remote)
    if peer is None or not any(peer in net for net in proxies):
        return str(peer) if peer else None
    for hop in reversed(forwarded_for.split(",")):
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


def is_bot_user_agent(user_agent: str) -> bool:
    """Crawlers, scripts, monitors, headless browsers and AI agents, by name (core/bots.py). No UA is a
    bot. Judged on the first USER_AGENT_MAX_LENGTH characters, what is stored: the cost is the same
    for an 8 KB header as for a browser's."""
    return _is_bot(user_agent[:USER_AGENT_MAX_LENGTH])


@lru_cache(maxsize=4096)  # a reader sends the same user agent every heartbeat
def _is_bot(user_agent: str) -> bool:
    if not user_agent.strip():
        return True
    return names_a_machine(user_agent)


@dataclass(frozen=True)
class ClientInfo:
    """What a request tells about its sender, computed once per request."""

    ip: str | None
    user_agent: str
    dnt: bool = False

    @property
    def network(self) -> str | None:
        return anonymize_ip(self.ip)

    @property
    def is_bot(self) -> bool:
        return is_bot_user_agent(self.user_agent)


def client_info(request: HttpRequest, ip: str | None = None) -> ClientInfo:
    return ClientInfo(
        ip=ip or client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX_LENGTH],
        dnt=request.META.get("HTTP_DNT") == "1" or request.META.get("HTTP_SEC_GPC") == "1",
    )
