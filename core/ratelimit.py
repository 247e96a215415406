"""Rate limits, claims and first values in the deployment's shared state (core/shared_state.py,
which picks its store once at start-up): fixed windows ('300/m') per key, counted exactly with any
number of processes (and machines, on PostgreSQL). Redis, when REDIS_URL is set, is django-q2's broker
only: it measured dearer per event than the database, and a Redis outage then leaves the limits as
they are. If the store cannot be written, the request is let through: events are the asset.

No client address is ever written to either store: a counter's key keeps its kind ("c", "n", "login",
"hook"…) and a keyed hash (HMAC-SHA256, with a key derived from SECRET_KEY) of the rest, so a copy of
the store does not say who asked, and nobody without the key can test an address against it.
Expired keys are deleted within PURGE_INTERVAL_SECONDS of expiring by the process that counts next,
and by the scheduled purge (`purge_expired_counters`) when no traffic comes.
"""

import hashlib
import hmac
import ipaddress
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db.models import Model

from core.shared_state import shared_state

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smh])\s*$")
_PERIODS = {"s": 1, "m": 60, "h": 3600}
# (key, rate) pairs, checked in order: ("c:198.51.100.23:reader-1", "300/m").
Limits = Sequence[tuple[str, str]]


@lru_cache(maxsize=8)
def parse_rate(rate: str) -> tuple[int, int]:
    """'300/m' -> (300, 60); '10/5s' -> (10, 5)."""
    match = _RATE.match(rate or "")
    if not match:
        raise ValueError(f"A rate limit must look like 300/m, not {rate!r}")
    count, multiplier, unit = match.groups()
    return int(count), int(multiplier or 1) * _PERIODS[unit]


@lru_cache(maxsize=4096)  # asked for every event; parsing an address costs more than the lookup
def network_of(ip: str | None) -> str:
    """The rate-limit key of a client network: the IPv4 address, or the IPv6 /64 (one subscriber's
    devices get many addresses in it, so rotating addresses does not escape the ceiling)."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return ip or "-"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address) + "/64"
    return str(address)


def _hashed_key(key: str) -> str:
    """The counters store's form of a key: "c:198.51.100.23:reader-1" becomes "c:<32 hex digits>".
    The kind stays readable; the rest is an HMAC keyed from SECRET_KEY (a plain hash of an IPv4
    address is reversed by trying all 2^32 of them)."""
    kind, separator, rest = key.partition(":")
    if not separator:
        kind, rest = "k", key
    return f"{kind}:{hmac.new(_counters_key(settings.SECRET_KEY), rest.encode(), hashlib.sha256).hexdigest()[:32]}"


def _derive_counters_key(secret: str) -> bytes:
    """The HMAC key, derived from SECRET_KEY once (salted_hmac derives it on every call: 10x dearer)."""
    return hashlib.sha256(b"arkwatch.counters" + secret.encode()).digest()


# Cached (a reader sends an event every 15 s with the same keys), wrapped rather than decorated: the
# mutation run (`make mutants`) leaves decorated functions alone, and the keying is what it must try.
hashed_key = lru_cache(maxsize=8192)(_hashed_key)
_counters_key = lru_cache(maxsize=2)(_derive_counters_key)


def _windowed(limits: Limits, now: float) -> list[tuple[str, int, int]]:
    """(key, rate) -> (hashed key of the current fixed window, limit, period in seconds)."""
    windowed = []
    for key, rate in limits:
        limit, period = parse_rate(rate)
        windowed.append((f"arkwatch:rl:{hashed_key(key)}:{int(now // period)}", limit, period))
    return windowed


def rate_limited(*limits: tuple[str, str]) -> bool:
    """Count one hit on each (key, rate) in order — fixed windows, '300/m' — and say whether one of
    them is over its limit. A counter over its limit stops the count there."""
    return count_attempt(*limits).refused


@dataclass(frozen=True)
class Attempt:
    """One counted attempt (`count_attempt`): whether it was refused, and how to give its hits back."""

    refused: bool
    windowed: tuple[tuple[str, int, int], ...]

    def forgive(self) -> None:
        """Give back the hits this attempt counted: it turned out legitimate (a webhook whose
        authentication passed), and only failures should count against the sender."""
        shared_state().uncount([key for key, _limit, _period in self.windowed])


def count_attempt(*limits: tuple[str, str]) -> Attempt:
    """Count one hit like `rate_limited` *before* the work it guards (comparing a secret), so a guesser
    past the limit gets no answer at all; `Attempt.forgive()` gives the hits back when it succeeds."""
    now = time.time()
    windowed = _windowed(limits, now)
    return Attempt(refused=shared_state().count(windowed, now), windowed=tuple(windowed))


def window_left(rate: str) -> int:
    """Whole seconds until the current fixed window of `rate` ends: when a refused client may try again."""
    _limit, period = parse_rate(rate)
    return max(1, math.ceil(period - time.time() % period))


def purge_expired_counters() -> None:
    """Delete every expired counter and claim now (the schedule runs it when no traffic does)."""
    shared_state().purge_expired(time.time())


def insert_unless_limited(model: type[Model], names: tuple[str, ...], params: list[Any], limits: Limits) -> bool:
    """Count one hit on each (key, rate) like `rate_limited`, and INSERT the row (its columns `names`,
    values `params`, ready for the driver) only if no limit refused it. True: stored; False: refused,
    nothing stored."""
    now = time.time()
    return shared_state().insert_counted(model, names, params, _windowed(limits, now), now)


def claim(key: str, ttl_seconds: float) -> bool | None:
    """True for the first caller of `key` in any process until it expires; False for every other;
    None when the store could not be written (the caller decides what that means)."""
    return shared_state().claim(f"arkwatch:claim:{key}", ttl_seconds, time.time())


def release(key: str) -> bool | None:
    """Give a claim back before it expires: the next `claim` of `key` wins. True when it was held,
    False when it was not (or had expired), None when the store could not be written."""
    return shared_state().release(f"arkwatch:claim:{key}", time.time())


def held(key: str) -> bool | None:
    """Whether someone holds a live claim of `key`; None when the store could not be read."""
    return shared_state().held(f"arkwatch:claim:{key}", time.time())


def claim_once(key: str, ttl_seconds: float) -> bool:
    """True for the first caller of `key` in any process until it expires; False for every other,
    and when the store could not be written."""
    return claim(key, ttl_seconds) is True


def recall(key: str) -> float | None:
    """The value `remember_first` keeps under `key`, or None: none yet, expired, unreadable, or a store
    that keeps no values (the caller reads its own rows)."""
    return shared_state().recall(f"arkwatch:{key}", time.time())


def remember_first(key: str, value: float, ttl_seconds: float) -> float | None:
    """The value first remembered under `key` by any process (`value` if none is yet) until it
    expires, or None when it is not kept (unwritable, or a store that keeps no values)."""
    return shared_state().remember_first(f"arkwatch:{key}", value, ttl_seconds, time.time())
