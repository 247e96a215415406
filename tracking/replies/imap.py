"""Read the founder's mailbox over IMAP (imap-tools), every minute, without changing it.

The folder is selected read-only and messages are fetched with BODY.PEEK: nothing is marked read,
moved or deleted (IMAP_MARK_SEEN=true marks the replies ArkWatch kept, and only those, as read). Where
the poll stopped is kept per folder (MailboxCursor: UIDVALIDITY and the highest UID read), so each poll
fetches only what arrived since; a new UIDVALIDITY (the folder was rebuilt) reads the last
IMAP_FIRST_SYNC_DAYS again, and replies already stored are recognised by their Message-ID."""

import logging
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.utils import timezone
from imap_tools import AND, BaseMailBox, MailBox, MailBoxUnencrypted, MailMessageFlags, U
from imap_tools.errors import MailboxLoginError

from tracking.replies.models import MailboxCursor, ReplySource
from tracking.replies.reading import read_raw
from tracking.replies.services import UNKNOWN_SENDERS, inbound_reply_record
from tracking.webhooks.services import RecordOutcome

logger = logging.getLogger(__name__)

# At most this many messages per poll: a first sync of a busy mailbox is spread over a few minutes
# rather than holding a worker for one long poll.
BATCH = 200
LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class ImapConfigError(ValueError):
    """IMAP_URL cannot be used; the message says why, in a sentence."""


@dataclass(frozen=True)
class ImapConfig:
    secure: bool
    host: str
    port: int
    user: str
    password: str
    folder: str

    @property
    def label(self) -> str:
        """The mailbox as the cursor and the logs name it: no password."""
        return f"{self.user}@{self.host}:{self.port}/{self.folder}"[:300]


def imap_config(url: str | None = None) -> ImapConfig | None:
    """IMAP_URL read: imaps://user:password@host[:993][/folder]; None when it is empty."""
    url = settings.IMAP_URL if url is None else url
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("imaps", "imap"):
        raise ImapConfigError("IMAP_URL must start with imaps:// (or imap:// for a server on this machine).")
    if not parts.hostname or not parts.username or parts.password is None:
        raise ImapConfigError("IMAP_URL needs a user, an (app) password and a host: imaps://user:password@host/INBOX.")
    secure = parts.scheme == "imaps"
    if not secure and parts.hostname not in LOOPBACK:
        # An app password sent in clear over a network: refused rather than warned about.
        raise ImapConfigError("imap:// (without TLS) is only for a server on this machine; use imaps://.")
    try:
        port = parts.port or (993 if secure else 143)
    except ValueError as exc:
        raise ImapConfigError("IMAP_URL's port is not a number.") from exc
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    return ImapConfig(secure, parts.hostname, port, unquote(parts.username), unquote(parts.password), folder)


@dataclass
class PollReport:
    mailbox: str = ""
    fetched: int = 0
    outcome: RecordOutcome = RecordOutcome()
    error: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "mailbox": self.mailbox,
            "fetched": self.fetched,
            **self.outcome.as_dict(unknown=UNKNOWN_SENDERS),
            "error": self.error,
        }


def _connect(config: ImapConfig) -> BaseMailBox:
    timeout = settings.IMAP_TIMEOUT_SECONDS
    if config.secure:
        return MailBox(config.host, config.port, timeout=timeout, ssl_context=ssl.create_default_context())
    return MailBoxUnencrypted(config.host, config.port, timeout=timeout)


def mailbox_poll(*, now: datetime | None = None) -> PollReport:
    """One poll of IMAP_URL's folder: store the new replies about prospects. Never raises for a network
    or login problem: the report (and the cursor, for the back office) says what went wrong."""
    now = now or timezone.now()
    try:
        config = imap_config()
    except ImapConfigError as exc:
        return PollReport(error=str(exc))
    if config is None:
        return PollReport(error="IMAP_URL is not set: no mailbox to read.")
    report = PollReport(mailbox=config.label)
    try:
        with _connect(config).login(config.user, config.password, initial_folder=None) as mailbox:
            _read(mailbox, config, report, now)
    except MailboxLoginError:
        report.error = f"The IMAP server refused the login of {config.user} (check the app password)."
    except OSError as exc:  # refused, timed out, TLS failed (SSLError and TimeoutError are OSErrors)
        report.error = f"Could not reach the IMAP server {config.host}:{config.port} ({exc.__class__.__name__})."
    except Exception as exc:  # an IMAP server's unexpected answer: reported, retried next minute
        logger.exception("IMAP poll of %s failed", config.label)
        report.error = f"The IMAP server answered something unexpected ({exc.__class__.__name__})."
    MailboxCursor.objects.filter(mailbox=config.label).update(polled_at=now, error=report.error[:500])
    return report


def _read(mailbox: BaseMailBox, config: ImapConfig, report: PollReport, now: datetime) -> None:
    mailbox.folder.set(config.folder, readonly=not settings.IMAP_MARK_SEEN)
    status = mailbox.folder.status(config.folder, ["UIDVALIDITY"])
    uidvalidity = int(status["UIDVALIDITY"])
    cursor = MailboxCursor.objects.filter(mailbox=config.label).first()
    if cursor is None or cursor.uidvalidity != uidvalidity:
        cursor, _ = MailboxCursor.objects.update_or_create(
            mailbox=config.label, defaults={"uidvalidity": uidvalidity, "last_uid": 0}
        )
        since = (timezone.localtime(now) - timedelta(days=settings.IMAP_FIRST_SYNC_DAYS)).date()
        criteria = AND(date_gte=since)
    else:
        criteria = AND(uid=U(str(cursor.last_uid + 1), "*"))
    highest = cursor.last_uid
    kept: list[str] = []
    for message in mailbox.fetch(criteria, mark_seen=False, limit=BATCH, bulk=50):
        uid = int(message.uid or 0)
        if uid <= cursor.last_uid:
            continue  # "N:*" always answers the last message, even when it is older than N
        report.fetched += 1
        outcome = inbound_reply_record(letter=read_raw(message.obj.as_bytes()), source=ReplySource.IMAP, now=now)
        report.outcome = report.outcome + outcome
        if outcome.stored:
            kept.append(str(uid))
        highest = max(highest, uid)
        # Saved as it goes: a poll cut short does not read the same messages again.
        MailboxCursor.objects.filter(pk=cursor.pk).update(last_uid=highest)
    if kept and settings.IMAP_MARK_SEEN:
        mailbox.flag(kept, MailMessageFlags.SEEN, True)
