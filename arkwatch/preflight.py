"""`python -m arkwatch.preflight`: may production start? Run by bin/serve before anything else.

Prints one sentence per problem and exits 1, instead of a traceback or, worse, a server that answers
400 to every request (no ALLOWED_HOSTS) or signs tokens with a guessable key.
"""

import ipaddress
import os
import sys

from django.core.exceptions import ImproperlyConfigured

# Where gunicorn listens when a proxy on this machine is in front (bin/serve's default HOST).
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost", "[::1]")


def problems() -> list[str]:
    """What stops a production start, read from the real settings (environment and .env)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arkwatch.settings")
    try:
        from django.conf import settings

        debug = settings.DEBUG
        hosts = settings.ALLOWED_HOSTS
        proxies = settings.TRACKING_TRUSTED_PROXIES
    except ImproperlyConfigured as exc:
        return [str(exc)]
    found = []
    if debug:
        found.append("DEBUG is on: production runs with DEBUG=false (bin/serve sets it; remove it from .env).")
    if not [host for host in hosts if host.strip()]:
        found.append("ALLOWED_HOSTS is empty: set it to the host names of this server (e.g. track.example.com).")
    found += proxy_problems(proxies, os.environ.get("HOST", "127.0.0.1"))
    return found


def proxy_problems(proxies: list[str], listen_host: str) -> list[str]:
    """A proxy setting under which every client would look the same: the rate limits and the login
    throttle would then be one ceiling shared by every visitor (one flood starves them all, ten wrong
    passwords a minute lock every member of staff out)."""
    networks = []
    for proxy in proxies:
        try:
            networks.append(ipaddress.ip_network(proxy.strip(), strict=False))
        except ValueError:
            return [f"TRACKING_TRUSTED_PROXIES: {proxy!r} is not an IP address or CIDR range (e.g. 127.0.0.1,::1)."]
    everything = [str(network) for network in networks if network.prefixlen == 0]
    if everything:
        return [
            f"TRACKING_TRUSTED_PROXIES contains {everything[0]}, which trusts every address: any client could "
            "write its own X-Forwarded-For, and a request whose hops are all trusted is the proxy itself, so "
            "every client would look the same. Give only the proxy's address (127.0.0.1,::1 for a proxy "
            "on this machine)."
        ]
    if listen_host in LOOPBACK_HOSTS:
        loopback = ipaddress.ip_address("::1" if ":" in listen_host.strip("[]") else "127.0.0.1")
        if not any(loopback.version == net.version and loopback in net for net in networks):
            return [
                f"gunicorn listens on {listen_host}, so every request comes through a proxy on this machine, "
                f"but TRACKING_TRUSTED_PROXIES does not trust {loopback}: every client would look like "
                f"{loopback}, and one visitor would spend the limits of all (ten wrong passwords a minute "
                "would lock all staff out). Leave TRACKING_TRUSTED_PROXIES unset (it trusts 127.0.0.1 and "
                "::1) or give the proxy's address."
            ]
    return []


def main() -> int:
    found = problems()
    for problem in found:
        print(f"Refusing to start: {problem}", file=sys.stderr)
    if found:
        print('See docs/configuration.md and the README ("Deploying").', file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
