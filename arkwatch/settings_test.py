"""Test settings: the real settings with fast, local stand-ins where a test needs them.

DATABASE_URL / REDIS_URL from the environment still apply, so the same suite runs on PostgreSQL
and the Redis broker in CI.
"""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "test-only-key-" + "x" * 50)

from arkwatch.settings import *  # noqa: E402,F403
from arkwatch.settings import DATA_DIR, DATABASES, Q_CLUSTER  # noqa: E402

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not the in-memory default: WAL and the busy timeout then apply, so the concurrency
    # tests see real SQLite locking, and a qcluster subprocess can open the same database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-arkwatch.sqlite3")}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SMS_BACKEND = "locmem"
ALERT_SMS_RECIPIENTS = ["+33199000001"]
TRACKING_API_KEY = "test-api-key"
TRACKING_ALLOWED_ORIGINS = ["https://landing.example.com"]
CORS_ALLOWED_ORIGINS = TRACKING_ALLOWED_ORIGINS
PUBLIC_BASE_URL = "https://track.example.com"
# The tests' destinations are example.com's pages; evil.example is not ours.
TRACKING_LINK_HOSTS = [".example.com"]
LANGUAGE_CODE = "fr"
# django-q2 reads Q_CLUSTER once at import: tasks run inline in the caller during tests.
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Threads of the live server and of the concurrency tests must not keep connections past a request.
DATABASES["default"]["CONN_MAX_AGE"] = 0
