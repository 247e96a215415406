"""Where the settings read their .env: ENV_FILE, or .env at the repository root (stdlib only)."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def env_file_path() -> Path:
    # ENV_FILE lets a test (or a second checkout) use its own file without touching the developer's.
    return Path(os.environ.get("ENV_FILE") or BASE_DIR / ".env")
