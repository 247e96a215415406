"""ArkWatch settings: everything comes from the environment (see .env.example).

Development defaults apply only when DEBUG is on; with DEBUG off (production) a missing
SECRET_KEY stops the process at start, and the HTTPS hardening below is on.
"""

import os
import re
from datetime import date
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from arkwatch.envfile import env_file_path

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
ENV_FILE = env_file_path()
if ENV_FILE.exists():
    # Real environment variables win over the file.
    environ.Env.read_env(ENV_FILE, overwrite=False)

DEBUG = env.bool("DEBUG", default=False)


def _loopback_host(host: str) -> bool:
    """A host name only this machine reaches (as ALLOWED_HOSTS writes it): localhost and its
    sub-domains, 127.0.0.0/8, ::1. "*" and every other name may be reached from the network."""
    name = host.strip().lower().strip("[]").rstrip(".")
    if name in ("localhost", "::1") or name.endswith(".localhost") or name == "testserver":
        return True
    return bool(re.fullmatch(r"127(?:\.\d{1,3}){3}", name))


if DEBUG:
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
    # `or`: an empty `SECRET_KEY=` line (as in a copied .env.example) means "not set" too. The
    # development key is public (it is in this file): tokens, links and sessions signed with it can be
    # forged by anyone, so it is used only while the server answers to this machine alone.
    SECRET_KEY = env("SECRET_KEY", default="")
    if not SECRET_KEY:
        exposed = [host for host in ALLOWED_HOSTS if not _loopback_host(host)]
        if exposed:
            raise ImproperlyConfigured(
                f"SECRET_KEY is empty while ALLOWED_HOSTS names {', '.join(exposed)}, which other machines "
                f"reach: set SECRET_KEY to 50+ random characters (e.g. `openssl rand -base64 48`) in "
                f"{ENV_FILE} or the environment; the development key is public and anyone could sign "
                f"links and sessions with it."
            )
        SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"
else:
    SECRET_KEY = env("SECRET_KEY", default="")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            f"SECRET_KEY must be set to a random string of at least 50 characters when DEBUG is off "
            f"(development: put DEBUG=true in {ENV_FILE}, or run `make run` once, which writes it)."
        )
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

INSTALLED_APPS = [
    "backoffice.admin_app.ArkWatchAdminConfig",  # the admin, with the dashboard as its index
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "django_q",
    # One direction: core <- prospects <- tracking <- alerts <- backoffice <- arkwatch.
    "core",
    "prospects",
    "tracking",
    "alerts",
    "backoffice",
    "arkwatch",
]

MIDDLEWARE = [
    # CORS first so preflights and error answers carry the allow-list headers.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # DEBUG's English page listing every URL becomes the French 404 (make run is DEBUG).
    "arkwatch.middleware.FrenchNotFoundMiddleware",
    # No LocaleMiddleware: one language at a time, LANGUAGE_CODE's, whatever a browser asks for, so the
    # pages, the API's errors, the commands and the SMS never mix two languages.
    # The tracking endpoints are answered here: nothing below is theirs (see the class).
    "arkwatch.middleware.TrackingEndpointsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "arkwatch.middleware.AdminLoginThrottleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "arkwatch.urls"
WSGI_APPLICATION = "arkwatch.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
DATA_DIR = Path(env("DATA_DIR", default=str(BASE_DIR / "data")))
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'arkwatch.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of one failing with
        # "database is locked" on lock upgrade. WAL (readers beside the single writer) is switched on
        # once per file by arkwatch/sqlite.py, not here on every connection.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA synchronous=NORMAL;",
    }
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# PostgreSQL: the intake's per-event statements are prepared once per connection (core/sql.py).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
if DATABASE_PREPARED_STATEMENTS and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django sets psycopg's prepare_threshold to None, which refuses even an explicit prepare. Its
    # own cursors bind parameters on the client and never prepare whatever the threshold: only the
    # intake's cursor, which asks, does.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and broker -------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    # The broker (below) and the cache, shared for django-q2's cluster stats and anything else that
    # caches. The shared counters stay beside the database (core/ratelimit.py).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

DETECTION_INTERVAL_MINUTES = env.int("DETECTION_INTERVAL_MINUTES", default=5)
Q_CLUSTER = {
    "name": env("Q_CLUSTER_NAME", default="arkwatch"),
    "workers": env.int("Q_WORKERS", default=2),
    # A task may sleep between SMS retries: timeout bounds it, and retry must exceed timeout or a
    # slow task would be handed out a second time while the first still runs.
    "timeout": 120,
    "retry": 180,
    # django-q2 re-delivers a failing task forever by default; our tasks are idempotent and the
    # next scheduled cycle catches up, so two attempts are plenty.
    "max_attempts": 2,
    "ack_failures": True,
    # After downtime run the detection once, not once per missed interval.
    "catch_up": False,
    "save_limit": 500,
    # ORM broker: how often an idle cluster looks for new tasks. A signal crosses the queue twice
    # (detect, then deliver), so this is paid twice on the way to the SMS; one indexed SELECT every
    # 50 ms costs nothing measurable. (The Redis broker blocks on the list and does not poll.)
    "poll": 0.05,
    "label": "Django Q",
}
if REDIS_URL:
    # Bounded waits: a Redis that hangs (rather than refusing) must not hold a web request forever
    # when it enqueues detection; the broker's own BLPOP waits 1 s, so reads get 5 s.
    _separator = "&" if "?" in REDIS_URL else "?"
    Q_CLUSTER["redis"] = (
        REDIS_URL
        if "socket_timeout" in REDIS_URL
        else f"{REDIS_URL}{_separator}socket_connect_timeout=1&socket_timeout=5"
    )
else:
    Q_CLUSTER["orm"] = "default"

# --- Auth, i18n, static -----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = env("LANGUAGE_CODE", default="fr")
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="Europe/Paris")
# Phone numbers of this country are shown in national format ("01 99 00 12 34"), others international.
PHONE_REGION = env("PHONE_REGION", default="FR")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
ADMIN_URL = env("ADMIN_URL", default="admin/")
LOGIN_URL = f"/{ADMIN_URL}login/"
ADMIN_LOGIN_RATE_LIMIT = env("ADMIN_LOGIN_RATE_LIMIT", default="10/m")

# --- Public tracking endpoints ----------------------------------------------------------------
# Unset, the links (pixel, tracked link, the SMS's short link) follow the address `make run` serves on
# (HOST, PORT), so `PORT=18900 make run` texts links on port 18900; production sets it (preflight warns).
# A second terminal has neither variable: it reads where `make run` last served (bin/run writes it).
_SERVED_HOST = env("HOST", default="127.0.0.1")
_SERVED_HOST = "127.0.0.1" if _SERVED_HOST in ("0.0.0.0", "::") else _SERVED_HOST  # "every interface": this one
_SERVED_AT = DATA_DIR / "served-at"
if "PORT" not in os.environ and "HOST" not in os.environ and _SERVED_AT.is_file():
    _SERVED_URL = _SERVED_AT.read_text(encoding="utf-8").strip()
else:
    _SERVED_URL = f"http://{_SERVED_HOST}:{env('PORT', default='8000')}"
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default=_SERVED_URL).rstrip("/")
# Destination of the tracked link shown on a prospect's page (the offer's landing page).
LANDING_PAGE_URL = env("LANDING_PAGE_URL", default=PUBLIC_BASE_URL + "/audit-gratuit-monitoring.html")
TRACKING_ALLOWED_ORIGINS = env.list("TRACKING_ALLOWED_ORIGINS", default=[])
# Tracked links lead only to our pages (tracking/tokens.py): the hosts of the origins above,
# PUBLIC_BASE_URL and LANDING_PAGE_URL, and these ("www.example.com", ".example.com" for sub-domains).
TRACKING_LINK_HOSTS = env.list("TRACKING_LINK_HOSTS", default=[])
# Pixel and link tokens older than this are expired (0: never); an email is rarely reopened after a year.
TRACKING_TOKEN_MAX_AGE_DAYS = env.int("TRACKING_TOKEN_MAX_AGE_DAYS", default=365)
TRACKING_API_KEY = env("TRACKING_API_KEY", default="")
# Per reader (visitor id + IP), see docs/how-it-works.md "Shared state and limits" ...
TRACKING_RATE_LIMIT = env("TRACKING_RATE_LIMIT", default="300/m")
# ... under a ceiling per client network (IPv4 address, IPv6 /64): an office of 100 readers behind one
# NAT sends about 500 events a minute (a heartbeat every 15 s), far below it; a flood is stopped.
TRACKING_NETWORK_RATE_LIMIT = env("TRACKING_NETWORK_RATE_LIMIT", default="3000/m")
TRACKING_MAX_BODY_BYTES = 8 * 1024
# X-Forwarded-For is believed only when the direct peer is one of these (IPs or CIDRs). By default a
# proxy on this machine (bin/serve listens on 127.0.0.1 behind one): only a local process can connect
# from there, so trusting it is safe even with no proxy, and without it every client would be the proxy.
TRACKING_TRUSTED_PROXIES = env.list("TRACKING_TRUSTED_PROXIES", default=["127.0.0.1", "::1"])
TRACKING_HONOR_DNT = env.bool("TRACKING_HONOR_DNT", default=True)
TRACKING_HEARTBEAT_SECONDS = env.int("TRACKING_HEARTBEAT_SECONDS", default=15)
# Where the snippet and its events are served (tracking/urls.py). Ad blockers' lists target words such as
# track, tracker, pixel, beacon, collect, analytics: the defaults use none of them. The old paths
# (/static/tracker.js, /api/track/*) keep answering for snippets already pasted into pages.
TRACKING_SCRIPT_PATH = "/" + env("TRACKING_SCRIPT_PATH", default="/js/page.js").strip("/")
TRACKING_EVENTS_PATH = "/" + env("TRACKING_EVENTS_PATH", default="/api/page").strip("/")
# Nothing kept forever (docs/privacy.md): events 13 months (the CNIL's term for audience measurement
# data), then deleted by the daily schedule; 0 keeps them until purged by hand.
EVENT_RETENTION_DAYS = env.int("EVENT_RETENTION_DAYS", default=395)
# A prospect with no contact from them (a click, a reply, a booking, an answered call; opens do not
# count) for this long is erased as forget_prospect erases, by the same daily schedule; 0 = never.
# Three years: the CNIL's term for B2B prospects who never answered.
PROSPECT_INACTIVE_ERASE_DAYS = env.int("PROSPECT_INACTIVE_ERASE_DAYS", default=1095)
# What needs the prospect's consent (prospects/consent.py, docs/privacy.md): `pixel` (identifying opens),
# `storage` (anything the tracker writes in the browser), `link` (identification by the personal `ak`).
# The default follows the CNIL's 2026 recommendation on email pixels and its cookie guidelines; empty:
# nothing needs it (the opt-out link and the unsubscribes still work).
TRACKING_CONSENT_FOR = env.list("TRACKING_CONSENT_FOR", default=["pixel", "storage"])
# Who collects, as the French notices (templates/consent/) name it, and whom a prospect writes to.
CONSENT_CONTROLLER_NAME = env("CONSENT_CONTROLLER_NAME", default="")
CONSENT_CONTACT_EMAIL = env("CONSENT_CONTACT_EMAIL", default="")
# Email services' webhooks (/api/webhooks/<provider>): an endpoint whose secret is empty answers 404.
SENDGRID_WEBHOOK_PUBLIC_KEY = env("SENDGRID_WEBHOOK_PUBLIC_KEY", default="")  # base64 DER, as SendGrid shows it
MAILGUN_WEBHOOK_SIGNING_KEY = env("MAILGUN_WEBHOOK_SIGNING_KEY", default="")
BREVO_WEBHOOK_TOKEN = env("BREVO_WEBHOOK_TOKEN", default="")
POSTMARK_WEBHOOK_USER = env("POSTMARK_WEBHOOK_USER", default="")
POSTMARK_WEBHOOK_PASSWORD = env("POSTMARK_WEBHOOK_PASSWORD", default="")
# Booking tools' webhooks (/api/webhooks/calcom, /api/webhooks/calendly): empty = the endpoint answers 404.
CALCOM_WEBHOOK_SECRET = env("CALCOM_WEBHOOK_SECRET", default="")
CALENDLY_WEBHOOK_SIGNING_KEY = env("CALENDLY_WEBHOOK_SIGNING_KEY", default="")
# Replies to the prospecting emails (docs/configuration.md, "Replies"). IMAP_URL: the founder's mailbox,
# imaps://user:app-password@host:993/INBOX (password URL-encoded; imap:// only to a server on this
# machine), read every minute; empty = not read. Nothing is marked read unless IMAP_MARK_SEEN.
IMAP_URL = env("IMAP_URL", default="")
IMAP_MARK_SEEN = env.bool("IMAP_MARK_SEEN", default=False)
IMAP_FIRST_SYNC_DAYS = env.int("IMAP_FIRST_SYNC_DAYS", default=3)
IMAP_TIMEOUT_SECONDS = env.int("IMAP_TIMEOUT_SECONDS", default=30)
# Inbound-email webhooks (/api/inbound/<provider>): an endpoint whose secret is empty answers 404.
SENDGRID_INBOUND_PUBLIC_KEY = env("SENDGRID_INBOUND_PUBLIC_KEY", default="")  # the Parse security policy's key
MAILGUN_INBOUND_SIGNING_KEY = env("MAILGUN_INBOUND_SIGNING_KEY", default="")
POSTMARK_INBOUND_USER = env("POSTMARK_INBOUND_USER", default="")
POSTMARK_INBOUND_PASSWORD = env("POSTMARK_INBOUND_PASSWORD", default="")
BREVO_INBOUND_TOKEN = env("BREVO_INBOUND_TOKEN", default="")
# SendGrid batches events up to 768 KB per POST; the tracking endpoints' 8 KiB would refuse them.
WEBHOOK_MAX_BODY_BYTES = 1024 * 1024
# Django rejects larger bodies before our views see them; ours answer 413 from 8 KiB.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

CORS_ALLOWED_ORIGINS = TRACKING_ALLOWED_ORIGINS
# The public tracking API (tracking/urls.py): the snippet's events (TRACKING_EVENTS_PATH and its default
# /api/page), everything under /api/track (the older names) and the email pixel and link under /t/.
CORS_URLS_REGEX = rf"^/(api/track|api/page/|t/|{re.escape(TRACKING_EVENTS_PATH.strip('/'))}/)"
CORS_ALLOW_METHODS = ["GET", "POST", "OPTIONS"]
CORS_ALLOW_CREDENTIALS = False

# --- Signals and alerts -----------------------------------------------------------------------
SIGNAL_DWELL_SECONDS = env.int("SIGNAL_DWELL_SECONDS", default=90)
SIGNAL_CTA_IDS = env.list("SIGNAL_CTA_IDS", default=["cta_reserver_audit"])
# What people read for a CTA id (the button's words), in SMS, pages and commands: id=label,id=label.
SIGNAL_CTA_LABELS = env.dict("SIGNAL_CTA_LABELS", default={"cta_reserver_audit": "Réserver audit"})
SIGNAL_EMAIL_REOPEN_MIN_HOURS = env.float("SIGNAL_EMAIL_REOPEN_MIN_HOURS", default=24)
SIGNAL_EMAIL_REOPEN_MAX_HOURS = env.float("SIGNAL_EMAIL_REOPEN_MAX_HOURS", default=48)
SIGNAL_MAX_AGE_MINUTES = env.int("SIGNAL_MAX_AGE_MINUTES", default=60)
ALERT_COOLDOWN_HOURS = env.float("ALERT_COOLDOWN_HOURS", default=24)
ALERT_SMS_RECIPIENTS = env.list("ALERT_SMS_RECIPIENTS", default=[])
# Apprise URLs alerted besides SMS (Telegram, Slack, ntfy, email, json://…), each with its own delivery.
ALERT_CHANNELS = env.list("ALERT_CHANNELS", default=[])
# An SMS without a handset receipt after this long sends the alert to ALERT_CHANNELS again, saying so.
SMS_RECEIPT_TIMEOUT_MINUTES = env.int("SMS_RECEIPT_TIMEOUT_MINUTES", default=5)
# Past this many single-lead SMS in a clock hour, alerts are grouped into one summary SMS at its end.
ALERT_SMS_MAX_PER_HOUR = env.int("ALERT_SMS_MAX_PER_HOUR", default=10)
# Quiet hours (in TIME_ZONE): "20:00-08:00" (empty: none), and whole quiet days ("sat,sun"). A signal
# inside them does not text; one digest SMS at their end lists who to call first. ALERT_QUIET_BREAKERS
# lists the signals that still text at once (e.g. meeting_booked,cta_click).
ALERT_QUIET_HOURS = env("ALERT_QUIET_HOURS", default="")
ALERT_QUIET_DAYS = env.list("ALERT_QUIET_DAYS", default=[])
ALERT_QUIET_BREAKERS = env.list("ALERT_QUIET_BREAKERS", default=[])
_HH_MM = r"\s*([01]\d|2[0-3]):[0-5]\d\s*"
if ALERT_QUIET_HOURS and not re.fullmatch(f"{_HH_MM}-{_HH_MM}", ALERT_QUIET_HOURS):
    raise ImproperlyConfigured(f"ALERT_QUIET_HOURS must read HH:MM-HH:MM (e.g. 20:00-08:00), not {ALERT_QUIET_HOURS!r}")
if not {d.strip().lower()[:3] for d in ALERT_QUIET_DAYS} <= {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}:
    raise ImproperlyConfigured(f"ALERT_QUIET_DAYS lists days as mon,tue,…,sun, not {ALERT_QUIET_DAYS!r}.")
# A hot lead nobody acknowledged this long after its SMS gets one reminder (empty: off), sent to
# ALERT_REMIND_RECIPIENTS (empty: the same numbers as the alert).
ALERT_REMIND_AFTER_MINUTES = env.int("ALERT_REMIND_AFTER_MINUTES", default=None)
ALERT_REMIND_RECIPIENTS = env.list("ALERT_REMIND_RECIPIENTS", default=[])
# Claimed signals for two or more prospects from one client network within an hour are held for review.
ALERT_HOLD_SUSPICIOUS = env.bool("ALERT_HOLD_SUSPICIOUS", default=True)
# Unverified (claimed) signals have an hourly SMS budget of their own, so that forged claims never spend
# the verified alerts' ALERT_SMS_MAX_PER_HOUR; and claimed signals for this many different prospects within
# an hour, from whatever networks, are held for review too (ALERT_HOLD_SUSPICIOUS).
ALERT_UNVERIFIED_MAX_PER_HOUR = env.int("ALERT_UNVERIFIED_MAX_PER_HOUR", default=3)
ALERT_HOLD_UNVERIFIED_PROSPECTS = env.int("ALERT_HOLD_UNVERIFIED_PROSPECTS", default=3)
# A verified booking silences the prospect's other signals until the meeting, if it starts within this
# many days (a booking months ahead silences nothing).
MEETING_SILENCE_MAX_DAYS = env.int("MEETING_SILENCE_MAX_DAYS", default=14)
SMS_MAX_SEGMENTS = env.int("SMS_MAX_SEGMENTS", default=1)
# An SMS that cannot be sent (or whose fate cannot be checked) is retried this long, then failed.
SMS_GIVE_UP_AFTER_MINUTES = env.int("SMS_GIVE_UP_AFTER_MINUTES", default=60)

# --- The ledger and the campaign (alerts/outcomes/ledger.py) ---------------------------------------------
# A meeting is traced to the signal, SMS and call of the prospect in the days before it was booked.
LEDGER_WINDOW_DAYS = env.int("LEDGER_WINDOW_DAYS", default=14)
# Below this many cases a rate is shown as "pas assez de données", not as a percentage.
LEDGER_MIN_N = env.int("LEDGER_MIN_N", default=10)


def _campaign_date(name: str, value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a date written YYYY-MM-DD, not {value!r}.") from exc


# The campaign's first day: the dashboard's charts and the ledger start there (empty: the first signal).
CAMPAIGN_START = _campaign_date("CAMPAIGN_START", env("CAMPAIGN_START", default=""))
# The goal shown as progress, e.g. 3 qualified calls (reached, or meeting booked) by 2027-02-12.
CAMPAIGN_GOAL_COUNT = env.int("CAMPAIGN_GOAL_COUNT", default=0)
CAMPAIGN_GOAL_KIND = env("CAMPAIGN_GOAL_KIND", default="qualified_calls")
if CAMPAIGN_GOAL_KIND not in ("qualified_calls", "meetings"):
    raise ImproperlyConfigured("CAMPAIGN_GOAL_KIND must be qualified_calls or meetings.")
CAMPAIGN_GOAL_DATE = _campaign_date("CAMPAIGN_GOAL_DATE", env("CAMPAIGN_GOAL_DATE", default=""))

OVH_ENDPOINT = env("OVH_ENDPOINT", default="ovh-eu")
OVH_APPLICATION_KEY = env("OVH_APPLICATION_KEY", default="")
OVH_APPLICATION_SECRET = env("OVH_APPLICATION_SECRET", default="")
OVH_CONSUMER_KEY = env("OVH_CONSUMER_KEY", default="")
OVH_SMS_SERVICE_NAME = env("OVH_SMS_SERVICE_NAME", default="")
OVH_SMS_SENDER = env("OVH_SMS_SENDER", default="")
# Read replies to the alert SMS as call outcomes (1 appelé, 2 pas de réponse, 3 RDV pris, 9 fausse alerte):
# needs a sender that accepts replies (no OVH_SMS_SENDER name) and the token rights GET/DELETE /sms/*/incoming*.
OVH_SMS_REPLIES = env.bool("OVH_SMS_REPLIES", default=False)
# A reply applies to a lead only when the most recent SMS to that number was that lead's, sent within
# this many hours; otherwise it is kept, changes nothing, and the back office says why.
OVH_SMS_REPLY_WINDOW_HOURS = env.float("OVH_SMS_REPLY_WINDOW_HOURS", default=12)
_ovh_configured = bool(OVH_APPLICATION_KEY and OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY)
SMS_BACKEND = env("SMS_BACKEND", default="ovh" if _ovh_configured else "console")
if DEBUG and SMS_BACKEND == "console" and not ALERT_SMS_RECIPIENTS:
    # Development: alerts are printed in the terminal of `make run` under this name.
    ALERT_SMS_RECIPIENTS = ["console"]

# --- Production hardening (check --deploy is clean with DEBUG off) ----------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_PROXY", True) else None
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[PUBLIC_BASE_URL])
    # /healthz is probed over plain HTTP by load balancers.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django-q": {"level": env("Q_LOG_LEVEL", default="INFO")}},
}
