"""`python -m arkwatch.preflight`: may production start? Run by bin/serve before anything else.

Prints one sentence per problem and exits 1, instead of a traceback or, worse, a server that answers
400 to every request (no ALLOWED_HOSTS) or signs tokens with a guessable key.
"""

import os
import sys

from django.core.exceptions import ImproperlyConfigured


def problems() -> list[str]:
    """What stops a production start, read from the real settings (environment and .env)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arkwatch.settings")
    try:
        from django.conf import settings

        debug = settings.DEBUG
        hosts = settings.ALLOWED_HOSTS
    except ImproperlyConfigured as exc:
        return [str(exc)]
    found = []
    if debug:
        found.append("DEBUG is on: production runs with DEBUG=false (bin/serve sets it; remove it from .env).")
    if not [host for host in hosts if host.strip()]:
        found.append("ALLOWED_HOSTS is empty: set it to the host names of this server (e.g. track.example.com).")
    return found


def main() -> int:
    found = problems()
    for problem in found:
        print(f"Refusing to start: {problem}", file=sys.stderr)
    if found:
        print('See docs/configuration.md and the README ("Deploying").', file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
