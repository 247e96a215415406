"""`python -m arkwatch.preflight`: may production start? Run by bin/serve before anything else.

Prints one sentence per problem and exits 1, instead of a traceback or, worse, a server that answers
400 to every request (no ALLOWED_HOSTS) or signs tokens with a guessable key. Warnings (links that
people could not open) are printed without refusing. `--run` (bin/run, development) checks only that
nothing holds the port (an earlier server left running: named, with what to do) and warns about links.
"""

import ipaddress
import os
import socket
import sys
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

import django
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext

from prospects.apps import ProspectsConfig
from prospects.domains import registrable_domain


def _(text: str) -> str:
    """In the deployment's language once the settings could be read; before that, as written."""
    return gettext(text) if apps.ready else text


# Host names that only ever mean "this machine" to whoever opens the link.
LOOPBACK = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "::"}
# Where gunicorn listens when a proxy on this machine is in front (bin/serve's default HOST).
LOOPBACK_LISTENERS = ("127.0.0.1", "::1", "localhost", "[::1]")


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
    django.setup()
    found = []
    if debug:
        found.append(_("DEBUG is on: production runs with DEBUG=false (bin/serve sets it; remove it from .env)."))
    if not [host for host in hosts if host.strip()]:
        found.append(_("ALLOWED_HOSTS is empty: set it to the host names of this server (e.g. track.example.com)."))
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
            return [
                _("TRACKING_TRUSTED_PROXIES: “%(proxy)s” is not an IP address or CIDR range (e.g. 127.0.0.1,::1).")
                % {"proxy": proxy}
            ]
    everything = [str(network) for network in networks if network.prefixlen == 0]
    if everything:
        return [
            _(
                "TRACKING_TRUSTED_PROXIES contains %(range)s, which trusts every address: any client could write "
                "its own X-Forwarded-For, and a request whose hops are all trusted is the proxy itself, so every "
                "client would look the same. Give only the proxy's address (127.0.0.1,::1 for a proxy on this "
                "machine)."
            )
            % {"range": everything[0]}
        ]
    if listen_host in LOOPBACK_LISTENERS:
        loopback = ipaddress.ip_address("::1" if ":" in listen_host.strip("[]") else "127.0.0.1")
        if not any(loopback.version == net.version and loopback in net for net in networks):
            return [
                _(
                    "gunicorn listens on %(host)s, so every request comes through a proxy on this machine, but "
                    "TRACKING_TRUSTED_PROXIES does not trust %(loopback)s: every client would look like "
                    "%(loopback)s, and one visitor would spend the limits of all (ten wrong passwords a minute "
                    "would lock all staff out). Leave TRACKING_TRUSTED_PROXIES unset (it trusts 127.0.0.1 and "
                    "::1) or give the proxy's address."
                )
                % {"host": listen_host, "loopback": loopback}
            ]
    return []


def link_warnings(public_base_url: str, *, production: bool, host: str, port: str) -> list[str]:
    """Why the links in emails and SMS (all under PUBLIC_BASE_URL) would not reach this server."""
    url = urlsplit(public_base_url)
    served = f"http://{host}:{port}"
    if production and (url.hostname or "") in LOOPBACK:
        return [
            _(
                "PUBLIC_BASE_URL is %(url)s: the links in emails and SMS would open the reader's own machine, "
                "not this server. Set it to the address people reach, e.g. PUBLIC_BASE_URL=https://track.example.com."
            )
            % {"url": public_base_url}
        ]
    if not production and (url.hostname or "") in LOOPBACK and str(url.port or 80) != port:
        return [
            _(
                "PUBLIC_BASE_URL is %(url)s but the server answers on %(served)s: the links in emails and SMS "
                "would lead nowhere. Remove PUBLIC_BASE_URL from .env (links then follow HOST and PORT) or correct it."
            )
            % {"url": public_base_url, "served": served}
        ]
    return []


def site_of(url: str) -> str:
    """A browser's "site" of an origin: its scheme and registrable domain, the Public Suffix List's private
    section included (every `*.webflow.io`, `*.github.io`, `*.vercel.app` page is a site of its own);
    an IP address or a one-label host is its own site."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    return f"{parts.scheme}://{registrable_domain(host) or host}"


def site_warnings(public_base_url: str, allowed_origins: list[str]) -> list[str]:
    """Landing pages on another site than ArkWatch: ad blockers' lists (EasyPrivacy's
    `$ping,third-party` among them) treat its requests as a third party's, and privacy browsers drop
    more of them. docs/how-it-works.md gives the nginx and Caddy recipes that serve the snippet and
    its events from the landing page's own origin."""
    origins = [origin.strip() for origin in allowed_origins if origin.strip()]
    if not origins or site_of(public_base_url) in {site_of(origin) for origin in origins}:
        return []
    return [
        _(
            "PUBLIC_BASE_URL (%(url)s) is not on the site of any landing page of TRACKING_ALLOWED_ORIGINS "
            "(%(origins)s): ad blockers treat the tracker's requests as a third party's and drop some. Serve "
            "the snippet and its events from the landing page's own site (docs/how-it-works.md, \"Serving the "
            'snippet from your own site").'
        )
        % {"url": public_base_url, "origins": ", ".join(origins)}
    ]


def port_holder(port: int) -> tuple[int, str] | None:
    """The process listening on this TCP port (pid, command line), when /proc tells (Linux, same user)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in inodes for fd in (proc / "fd").iterdir()):
                command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                return int(proc.name), command
        except OSError:
            continue
    return None


def port_problem(host: str, port: str) -> str | None:
    """Why the web server could not listen on HOST:PORT (a server left running, often), and what to do."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: TIME_WAIT is no owner
        try:
            probe.bind((host, int(port)))
            return None
        except OSError:
            pass
    holder = port_holder(int(port))
    if holder is None:
        return _(
            "Port %(port)s is already taken by another program: stop it, or choose another port (PORT=8001 make run)."
        ) % {"port": port}
    pid, command = holder
    return _(
        "Port %(port)s is already taken by process %(pid)s (%(command)s), probably an ArkWatch left running: "
        "stop it with `kill %(pid)s`, or choose another port (PORT=8001 make run)."
    ) % {"port": port, "pid": pid, "command": command[:120]}


def main(argv: list[str]) -> int:
    development = "--run" in argv
    found = [] if development else problems()
    if found:
        for problem in found:
            print(_("Refusing to start: %(problem)s") % {"problem": problem}, file=sys.stderr)
        print(_('See docs/configuration.md and the README ("Deploying").'), file=sys.stderr)
        return 1
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arkwatch.settings")
    django.setup()
    from django.conf import settings

    prospects = cast(ProspectsConfig, apps.get_app_config("prospects"))
    consent_problem = prospects.consent_policy_problem()
    if consent_problem:
        print(_("Refusing to start: %(problem)s") % {"problem": consent_problem}, file=sys.stderr)
        return 1
    # Which tracking needs the prospect's consent, said once at every start (bin/run, bin/serve).
    print(prospects.consent_policy_sentence())
    host, port = os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "8000")
    taken = port_problem(host, port)
    if taken:
        print(_("Cannot start: %(problem)s") % {"problem": taken}, file=sys.stderr)
        return 1
    warnings = link_warnings(settings.PUBLIC_BASE_URL, production=not development, host=host, port=port)
    warnings += site_warnings(settings.PUBLIC_BASE_URL, settings.TRACKING_ALLOWED_ORIGINS)
    for warning in warnings:
        print(_("Warning: %(warning)s") % {"warning": warning}, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
