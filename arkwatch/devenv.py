"""`python -m arkwatch.devenv`: write a local development .env the first time `make run` starts.

Without it, `manage.py` in a second terminal has neither DEBUG (only bin/run exports it) nor a
SECRET_KEY, and stops at the settings. The file is written only when none exists: a developer's own
.env, or a production one, is never touched. Stdlib only: it runs before the settings can load.
"""

import os
import secrets
import sys
from pathlib import Path

from arkwatch.envfile import env_file_path

TEMPLATE = """\
# Local development settings, written by `make run` because there was no .env.
# Real environment variables win over this file; .env.example documents every variable.
# Never use this file in production (bin/serve forces DEBUG off and refuses a missing key).
DEBUG=true
SECRET_KEY={secret_key}
"""


def write_dev_env(path: Path) -> bool:
    """Create `path` with DEBUG on and a fresh random SECRET_KEY; False when it already exists."""
    try:
        # "x": never overwrite, even if two `make run` start at the same moment.
        with path.open("x", encoding="utf-8") as handle:
            handle.write(TEMPLATE.format(secret_key=secrets.token_urlsafe(50)))
    except FileExistsError:
        return False
    path.chmod(0o600)  # it holds a secret key
    return True


# Printed before any setting is read (this writes the file they come from): the language is the
# default one (LANGUAGE_CODE=fr), or English when the environment already says so.
WROTE = (
    "{path} écrit pour le développement local (DEBUG=true, une SECRET_KEY générée).",
    "Wrote {path} for local development (DEBUG=true, a generated SECRET_KEY).",
)


def main() -> int:
    path = env_file_path()
    if write_dev_env(path):
        print(WROTE[os.environ.get("LANGUAGE_CODE", "fr")[:2] == "en"].format(path=path), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
