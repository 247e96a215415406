"""The shared counters in Redis, for PostgreSQL deployments that set REDIS_URL: one Lua script per
check (one round trip, atomic). Measured against the database's upsert (bench/ingest.py and
core/db_counters.py): a Redis round trip costs the web process about as much CPU, and PostgreSQL
nothing, where the upsert costs PostgreSQL ~200 µs per event on the machine it shares.

Errors are the caller's (core/ratelimit.py falls back to the database)."""

from typing import Any

# Counters checked in order; one that is over its limit stops the check, so a rejected request is
# not counted against the limits after it (a flooding reader does not eat the office's ceiling).
# Returns the 1-based position of the exceeded limit, or 0.
LIMITS_SCRIPT = """
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('EXPIRE', key, ARGV[2 * i]) end
  if count > tonumber(ARGV[2 * i - 1]) then return i end
end
return 0
"""


# Stamp the key with the value if it has none, and return the value it holds.
FIRST_SCRIPT = """
redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2])
return redis.call('GET', KEYS[1])
"""

_loaded: dict[str, str] = {}  # script -> its SHA1 in Redis


def _run(client: Any, script: str, keys: list[str], args: list[Any]) -> Any:
    # Imported here: the redis package takes ~200 ms to import, which every web worker would pay at
    # boot even where no REDIS_URL is set.
    from redis.exceptions import NoScriptError

    # EVALSHA by hand: redis-py's Script object re-checks its registration on every call.
    if script not in _loaded:
        _loaded[script] = client.script_load(script)
    try:
        return client.evalsha(_loaded[script], len(keys), *keys, *args)
    except NoScriptError:  # Redis restarted and forgot it
        _loaded[script] = client.script_load(script)
        return client.evalsha(_loaded[script], len(keys), *keys, *args)


def count_hits(client: Any, windowed: list[tuple[str, int, int]]) -> bool:
    """Count one hit on each (key, limit, period) in order; True when one is over its limit."""
    keys: list[str] = []
    limits: list[int] = []
    for key, limit, period in windowed:
        keys.append(key)
        limits += [limit, period + 1]
    return int(_run(client, LIMITS_SCRIPT, keys, limits)) > 0


def claim(client: Any, key: str, ttl_seconds: float) -> bool:
    return bool(client.set(key, 1, nx=True, ex=max(1, int(ttl_seconds))))


def recall(client: Any, key: str) -> float | None:
    value = client.get(key)
    return None if value is None else float(value)


def remember_first(client: Any, key: str, value: float, ttl_seconds: float) -> float:
    return float(_run(client, FIRST_SCRIPT, [key], [repr(value), max(1, int(ttl_seconds))]))
