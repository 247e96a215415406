"""A message as the sorter and the matcher read it, whatever brought it: raw RFC 5322 bytes (IMAP, SendGrid's
"send raw", Mailgun's /mime route, Postmark's RawEmail) or an email service's parsed fields (headers and
text). Python's email package does the MIME work; this module only picks what the sorting needs.

Everything is cut to a bounded size first: a reply is read in time linear in what is kept."""

import email
import email.errors
import email.header
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from mailparser_reply import EmailReplyParser

# A reply's text is judged on its first characters; a DSN's status on its first parts.
MAX_TEXT = 20_000
MAX_PARTS = 30
EXCERPT_CHARS = 200
_MESSAGE_ID = re.compile(r"<([^<>\s]{1,250})>")
# A phone's signature line is no one's words: "Envoyé de mon iPhone" would be the SMS's quote otherwise.
_SENT_FROM = re.compile(r"(?im)^\s*(sent from my|envoy[ée] de mon|sent with|get outlook for|obtenir outlook pour)\b.*$")
_REPLY_LANGUAGES = ["fr", "en", "de", "es", "it", "nl"]


@dataclass
class Letter:
    """One inbound message, read."""

    headers: list[tuple[str, str]]
    text: str  # the whole text part (quoted message included), cut to MAX_TEXT
    content_type: str = "text/plain"
    report_type: str = ""  # multipart/report's report-type parameter
    part_types: set[str] = field(default_factory=set)
    # From a delivery-status part: (recipient address, action) per recipient.
    dsn: list[tuple[str, str]] = field(default_factory=list)
    # Message-IDs found in a returned message's headers (a bounce carries the email it could not deliver).
    returned_ids: list[str] = field(default_factory=list)
    unixfrom: str = ""

    def header(self, name: str) -> str:
        """The first value of a header, "" when absent (names compared case-insensitively)."""
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), "")

    def all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key.lower() == name]

    @property
    def subject(self) -> str:
        return " ".join(self.header("Subject").split())[:300]

    @property
    def sender(self) -> str:
        """The author's address: From, else Sender, Reply-To, the envelope (Return-Path, mbox line)."""
        for name in ("From", "Sender", "Reply-To", "Return-Path"):
            address = parseaddr(self.header(name))[1].strip().lower()
            if "@" in address:
                return address[:254]
        parts = self.unixfrom.split()
        return parts[1].lower()[:254] if len(parts) > 1 and "@" in parts[1] else ""

    @property
    def message_id(self) -> str:
        ids = message_ids(self.header("Message-ID"))
        return ids[0] if ids else ""

    @property
    def thread_ids(self) -> list[str]:
        """The messages this one answers: In-Reply-To first, then References (newest last, so reversed)."""
        ids = message_ids(self.header("In-Reply-To"))
        ids += list(reversed(message_ids(" ".join(self.all("References")))))
        return list(dict.fromkeys(ids))[:50]

    @property
    def sent_at(self) -> datetime | None:
        try:
            moment = parsedate_to_datetime(self.header("Date"))
        except (TypeError, ValueError, IndexError):
            return None
        return moment if moment.tzinfo else None

    @property
    def new_text(self) -> str:
        """What the sender wrote above (or below) the quoted message: the text a person reads first."""
        try:
            latest = EmailReplyParser(languages=_REPLY_LANGUAGES).parse_reply(text=self.text)
        except Exception:  # a third-party parser on anyone's text: never lose the reply over it
            latest = ""
        latest = latest or _unquoted(self.text)
        return _SENT_FROM.sub("", latest).strip()

    @property
    def excerpt(self) -> str:
        return " ".join(self.new_text.split())[:EXCERPT_CHARS]

    def key(self) -> str:
        """How this message is kept once: its Message-ID, else a hash of who, when and what."""
        if self.message_id:
            return f"mid:{self.message_id}"[:300]
        digest = hashlib.sha256("\n".join([self.sender, self.header("Date"), self.subject, self.text]).encode())
        return f"sha256:{digest.hexdigest()}"


def message_ids(value: str) -> list[str]:
    """Message-IDs in a header, without their angle brackets, as sent."""
    found = _MESSAGE_ID.findall(value or "")
    if not found and value and "@" in value and " " not in value.strip():
        found = [value.strip()]
    return found


def _unquoted(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))


def _decoded(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        return ""
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # unicode-1-1-utf-7 and other names Python does not know
        return payload.decode("utf-8", errors="replace")


_HTML_TAG = re.compile(r"<[^>]{0,2000}>")


def _html_text(html: str) -> str:
    html = re.sub(r"(?is)<(style|script)[^>]*>.*?</\1>", " ", html[: MAX_TEXT * 4])
    html = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", html)
    text = _HTML_TAG.sub("", html)
    return re.sub(r"&nbsp;", " ", text).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")


def _dsn_fields(part: Message) -> list[tuple[str, str]]:
    """(Final-Recipient address, Action) for each recipient block of a message/delivery-status part."""
    body = part.get_payload()
    blocks: list[str] = []
    if isinstance(body, list):  # Python parses delivery-status into header blocks
        blocks = ["\n".join(f"{k}: {v}" for k, v in block.items()) for block in body if isinstance(block, Message)]
    elif isinstance(body, str):
        blocks = re.split(r"\n\s*\n", body)
    found = []
    for block in blocks:
        recipient = re.search(r"(?im)^(?:final|original)-recipient:\s*(?:rfc822;)?\s*<?([^\s<>;]+@[^\s<>;]+)", block)
        action = re.search(r"(?im)^action:\s*(\w+)", block)
        if recipient or action:
            found.append((recipient.group(1).lower() if recipient else "", action.group(1).lower() if action else ""))
    return found


def read_raw(raw: bytes) -> Letter:
    """Read raw message bytes (an mbox "From " first line is allowed)."""
    message = email.message_from_bytes(raw[: 2 * 1024 * 1024], policy=email.policy.compat32)
    headers = [(str(k), _header_text(v)) for k, v in message.items()][:200]
    letter = Letter(
        headers=headers,
        text="",
        content_type=message.get_content_type(),
        report_type=str(message.get_param("report-type") or "")
        if message.get_content_type() == "multipart/report"
        else "",
        unixfrom=message.get_unixfrom() or "",
    )
    texts: list[str] = []
    htmls: list[str] = []
    for index, part in enumerate(message.walk()):
        if index >= MAX_PARTS:
            break
        kind = part.get_content_type()
        letter.part_types.add(kind)
        if kind == "message/delivery-status":
            letter.dsn += _dsn_fields(part)
        elif kind in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            letter.returned_ids += _returned_ids(part)
        elif kind == "text/plain" and part.get_content_disposition() != "attachment":
            # The first text part is the message; a returned message's text comes after and is not its words.
            if not texts:
                texts.append(_decoded(part))
        elif kind == "text/html" and part.get_content_disposition() != "attachment" and not htmls:
            htmls.append(_decoded(part))
    letter.text = (texts[0] if texts else _html_text(htmls[0]) if htmls else "")[:MAX_TEXT]
    return letter


def _returned_ids(part: Message) -> list[str]:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return message_ids(str(payload[0].get("Message-ID", "")))
    if isinstance(payload, str):
        match = re.search(r"(?im)^message-id:\s*(.+)$", payload)
        return message_ids(match.group(1)) if match else []
    return []


def _header_text(value: object) -> str:
    """A header as text, RFC 2047 words decoded; unfolded and cut."""
    try:
        text = str(email.header.make_header(email.header.decode_header(str(value))))
    except (LookupError, UnicodeError, ValueError, email.errors.HeaderParseError):
        text = str(value)
    return " ".join(text.split())[:2000]


def read_fields(*, headers: list[tuple[str, str]], text: str, html: str = "") -> Letter:
    """A message an email service already parsed: its headers and its text (or HTML) body."""
    headers = [(str(k)[:200], " ".join(str(v).split())[:2000]) for k, v in headers][:200]
    letter = Letter(headers=headers, text=(text or _html_text(html or ""))[:MAX_TEXT])
    content_type = letter.header("Content-Type")
    if content_type:
        parsed = EmailMessage()
        parsed["Content-Type"] = content_type
        letter.content_type = parsed.get_content_type()
        if letter.content_type == "multipart/report":
            letter.report_type = str(parsed.get_param("report-type") or "")
    return letter


def addresses(value: str) -> list[str]:
    return [address.lower() for _name, address in getaddresses([value]) if "@" in address]
