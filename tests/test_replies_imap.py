"""Replies read from a real IMAP server (tests/imap_server.py): an auto-reply then a person's reply land in
the founder's INBOX; one poll reads them, texts once, and leaves the mailbox as it was."""

from email.utils import format_datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_q.models import Schedule

from alerts.outbox import sms
from alerts.outbox.models import Alert
from arkwatch.schedules import MAILBOX_SCHEDULE, ensure_schedules
from bench.imap_server import start_imap_server
from tests.factories import ProspectFactory
from tracking.models import InboundReply, MailboxCursor, ReplyKind
from tracking.replies.imap import ImapConfigError, imap_config, mailbox_poll

FRENCH = Path(__file__).resolve().parent / "data" / "replies-fr"
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def server():
    running = start_imap_server()
    yield running
    running.stop()


@pytest.fixture
def mailbox(server, settings):
    settings.IMAP_URL = server.url
    return server


def fresh(name: str, tag: str) -> bytes:
    """A French case with today's date and its own Message-ID (the server keeps every test's mail)."""
    raw = (FRENCH / name).read_bytes()
    date_line = next(line for line in raw.split(b"\n") if line.startswith(b"Date:"))
    raw = raw.replace(date_line, b"Date: " + format_datetime(timezone.now()).encode())
    return raw.replace(b"@mail.example.fr>", f".{tag}@mail.example.fr>".encode(), 1)


def test_one_poll_texts_the_persons_reply_not_the_auto_reply_and_marks_nothing_read(mailbox, run_on_commit):
    ProspectFactory(name="Claire Dubois", company="Acme Industrie", email="claire.dubois@acme-industrie.fr")
    mailbox.deliver(fresh("auto-outlook-reponse-automatique.eml", "t1"))
    mailbox.deliver(fresh("person-oui-jeudi.eml", "t1"))
    report = run_on_commit(mailbox_poll)
    assert report.error == "" and report.outcome.stored == 2
    kinds = set(InboundReply.objects.values_list("kind", flat=True))
    assert kinds == {ReplyKind.AUTO, ReplyKind.PERSON}
    assert len(sms.outbox) == 1 and "a répondu" in sms.outbox[0].body
    assert Alert.objects.get().signal == "email_reply"
    # Nothing marked read, moved or deleted: the founder finds the mailbox as it was.
    assert all("\\Seen" not in flags for flags in mailbox.flags())
    # The next poll reads only what arrived since (the cursor), and texts nothing again.
    again = run_on_commit(mailbox_poll)
    assert again.fetched == 0 and len(sms.outbox) == 1
    cursor = MailboxCursor.objects.get()
    assert cursor.last_uid > 0 and cursor.uidvalidity > 0 and cursor.error == ""


def test_imap_mark_seen_marks_only_the_replies_kept(mailbox, settings, run_on_commit):
    settings.IMAP_MARK_SEEN = True
    ProspectFactory(email="claire.dubois@acme-industrie.fr")
    MailboxCursor.objects.all().delete()
    mailbox.deliver(fresh("person-tarif.eml", "t2"))
    stranger = fresh("person-tarif.eml", "t2b").replace(b"claire.dubois@", b"someone.else@")
    mailbox.deliver(stranger)
    run_on_commit(mailbox_poll)
    seen = [flags for flags in mailbox.flags() if "\\Seen" in flags]
    assert len(seen) == InboundReply.objects.count()


def test_a_wrong_password_is_a_sentence_not_a_traceback(mailbox, settings):
    settings.IMAP_URL = mailbox.url.replace("app-password-for-tests", "wrong")
    report = mailbox_poll()
    assert "refused the login" in report.error
    with pytest.raises(CommandError, match="refused the login"):
        call_command("read_replies")


def test_an_unreachable_server_is_reported(settings):
    settings.IMAP_URL = "imap://u:p@127.0.0.1:1/INBOX"
    assert "Could not reach the IMAP server" in mailbox_poll().error


@pytest.mark.parametrize(
    "url, problem",
    [
        ("pop3://u:p@mail.example.com", "must start with imaps://"),
        ("imaps://mail.example.com/INBOX", "needs a user"),
        ("imap://u:p@mail.example.com/INBOX", "only for a server on this machine"),
    ],
)
def test_imap_url_mistakes_are_explained(url, problem):
    with pytest.raises(ImapConfigError, match=problem):
        imap_config(url)


def test_imap_url_reads_an_app_password_with_special_characters():
    config = imap_config("imaps://paul%40acme.fr:a%2Fb%40c@imap.gmail.com/INBOX")
    assert (config.user, config.password, config.host, config.port, config.folder) == (
        "paul@acme.fr",
        "a/b@c",
        "imap.gmail.com",
        993,
        "INBOX",
    )


def test_the_mailbox_is_read_every_minute_only_when_configured(settings):
    settings.IMAP_URL = ""
    ensure_schedules()
    assert not Schedule.objects.filter(name=MAILBOX_SCHEDULE).exists()
    settings.IMAP_URL = "imaps://u:p@imap.example.com/INBOX"
    ensure_schedules()
    schedule = Schedule.objects.get(name=MAILBOX_SCHEDULE)
    assert schedule.minutes == 1 and schedule.func == "tracking.tasks.read_mailbox_task"
