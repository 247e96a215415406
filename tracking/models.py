from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.display import cta_label, moment_display
from tracking.choices import Identification
from tracking.mail_fetchers import describe_machine_reason


class MatchMethod(models.TextChoices):
    # Ordered weakest to strongest; MATCH_STRENGTH gives the order matching relies on.
    IP = "ip", _("IP rule")
    REFERRER_DOMAIN = "referrer_domain", _("Referrer domain")
    COMPANY_DOMAIN = "company_domain", _("Company email domain")
    EMAIL = "email", _("Email")
    AK = "ak", _("Personal link token")
    MANUAL = "manual", _("Linked by hand")


MATCH_STRENGTH = {
    MatchMethod.IP: 10,
    MatchMethod.REFERRER_DOMAIN: 20,
    MatchMethod.COMPANY_DOMAIN: 30,
    MatchMethod.EMAIL: 40,
    MatchMethod.AK: 50,
    MatchMethod.MANUAL: 100,
}


VERIFIED_METHODS = {MatchMethod.AK, MatchMethod.MANUAL}


def identification_of(method: str) -> str:
    """verified or unverified, from how a visitor was matched ("" when it was not)."""
    if not method:
        return ""
    return Identification.VERIFIED if method in VERIFIED_METHODS else Identification.UNVERIFIED


def match_strength(method: str) -> int:
    """How much a match by `method` is worth; 0 for no match. Stored nowhere: it follows from the method."""
    return MATCH_STRENGTH.get(MatchMethod(method), 0) if method else 0


def methods_weaker_than(strength: int) -> list[str]:
    return [method.value for method, value in MATCH_STRENGTH.items() if value < strength]


class Visitor(models.Model):
    """An anonymous browser (its `visitor_id`) and, once known, the prospect behind it."""

    visitor_id = models.CharField(_("visitor id"), max_length=128, unique=True)
    prospect = models.ForeignKey(
        "prospects.Prospect",
        verbose_name=_("prospect"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visitors",
    )
    match_method = models.CharField(_("match method"), max_length=20, choices=MatchMethod.choices, blank=True)
    match_evidence = models.JSONField(_("match evidence"), default=dict, blank=True)
    matched_at = models.DateTimeField(_("matched at"), null=True, blank=True)
    matched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("matched by"), null=True, blank=True, on_delete=models.SET_NULL
    )
    email = models.EmailField(_("email given"), blank=True)
    # When `identify` last gave the email: the next detection cycle matches the visitor from it.
    email_given_at = models.DateTimeField(_("email given at"), null=True, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"), auto_now_add=True)

    class Meta:
        verbose_name = _("visitor")
        verbose_name_plural = _("visitors")
        indexes = [
            # The detection cycle reconsiders visitors matched since its last window.
            models.Index(fields=["matched_at"], name="visitor_matched_at_idx"),
            models.Index(fields=["email_given_at"], name="visitor_email_given_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(prospect__isnull=True) | ~models.Q(match_method=""),
                name="visitor_match_has_method",
            ),
        ]

    def __str__(self) -> str:
        return self.visitor_id

    @property
    def match_strength(self) -> int:
        return match_strength(self.match_method)

    @property
    def match_evidence_sentence(self) -> str:
        """Why this visitor is this prospect, as a sentence ("Came through the personal link")."""
        evidence = self.match_evidence if isinstance(self.match_evidence, dict) else {}
        method = self.match_method
        if method == MatchMethod.AK:
            return str(_("Came through the prospect's personal link"))
        if method == MatchMethod.EMAIL:
            return _("Gave the email %(email)s") % {"email": evidence.get("email", "?")}
        if method == MatchMethod.COMPANY_DOMAIN:
            return _("Gave %(email)s, an address of the company domain %(domain)s") % {
                "email": evidence.get("email", "?"),
                "domain": evidence.get("domain", "?"),
            }
        if method == MatchMethod.REFERRER_DOMAIN:
            return _("Came from %(referrer)s (company domain %(domain)s)") % {
                "referrer": evidence.get("referrer", "?"),
                "domain": evidence.get("domain", "?"),
            }
        if method == MatchMethod.IP:
            return _("Browsed from the company network %(network)s") % {"network": evidence.get("network", "?")}
        if method == MatchMethod.MANUAL:
            return _("Linked by hand by %(user)s") % {"user": evidence.get("by", "?")}
        return ""

    @property
    def identification(self) -> str:
        return identification_of(self.match_method)


class BrowserEvent(models.Model):
    """What every event sent by tracker.js carries. Events are evidence: written once, never edited."""

    visitor_id = models.CharField(_("visitor id"), max_length=128)
    page_view_id = models.CharField(_("page view id"), max_length=128, blank=True)
    page = models.CharField(_("page"), max_length=2048, blank=True)
    referrer = models.CharField(_("referrer"), max_length=2048, blank=True)
    ak = models.CharField(_("identity token"), max_length=64, blank=True)
    email = models.EmailField(_("email"), blank=True)
    received_at = models.DateTimeField(_("received at"))
    prospect = models.ForeignKey(
        "prospects.Prospect",
        verbose_name=_("prospect"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    is_bot = models.BooleanField(_("bot"), default=False)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)
    # Truncated (/24, /48) before it is stored: the raw address is never kept.
    client_network = models.GenericIPAddressField(_("client network"), null=True, blank=True)

    class Meta:
        abstract = True


class VisitEvent(BrowserEvent):
    class Kind(models.TextChoices):
        PAGEVIEW = "pageview", _("Page view")
        HEARTBEAT = "heartbeat", _("Heartbeat")
        LEAVE = "leave", _("Leave")

    event = models.CharField(_("event"), max_length=10, choices=Kind.choices, default=Kind.HEARTBEAT)
    engaged_ms = models.BigIntegerField(_("engaged ms (client)"), null=True, blank=True)
    # The period the page's tracker beats at (data-heartbeat, 1–60 s), as it reports it; None for old
    # snippets, judged with TRACKING_HEARTBEAT_SECONDS.
    heartbeat_s = models.FloatField(_("heartbeat period (s, client)"), null=True, blank=True)

    class Meta:
        verbose_name = _("visit event")
        verbose_name_plural = _("visit events")
        indexes = [
            # Incremental detection reads "what arrived since the last window".
            models.Index(fields=["received_at"], name="visit_received_idx"),
            # Dwell = last - first receive time of one page view.
            models.Index(fields=["page_view_id", "received_at"], name="visit_pageview_idx"),
            # Late matches attribute a visitor's earlier events.
            models.Index(fields=["visitor_id"], name="visit_visitor_idx"),
            models.Index(fields=["prospect", "received_at"], name="visit_prospect_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.visitor_id} {self.received_at:%Y-%m-%d %H:%M:%S}"


class CtaClick(BrowserEvent):
    cta_id = models.CharField(_("CTA id"), max_length=64)

    class Meta:
        verbose_name = pgettext_lazy("model", "CTA click")
        verbose_name_plural = _("CTA clicks")
        indexes = [
            models.Index(fields=["received_at"], name="cta_received_idx"),
            models.Index(fields=["visitor_id"], name="cta_visitor_idx"),
            models.Index(fields=["prospect", "received_at"], name="cta_prospect_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.cta_id} {self.visitor_id} {self.received_at:%Y-%m-%d %H:%M:%S}"

    @property
    def cta_label(self) -> str:
        return cta_label(self.cta_id)


class EmailEvent(models.Model):
    class Kind(models.TextChoices):
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        OPENED = "opened", _("Opened")
        CLICKED = "clicked", _("Clicked")
        BOUNCED = "bounced", _("Bounced")
        # The person's own "stop" through the email service (an unsubscribe link, a spam button): the
        # prospect becomes do-not-contact with tracking refused (tracking/webhooks/services.py).
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        COMPLAINED = "complained", _("Marked as spam")

    # What an email sender may post to /api/track/email (docs/interface.md §2); an opt-out comes only
    # from an email service's authenticated webhook.
    API_KINDS = (Kind.SENT, Kind.DELIVERED, Kind.OPENED, Kind.CLICKED, Kind.BOUNCED)
    OPT_OUTS = (Kind.UNSUBSCRIBED, Kind.COMPLAINED)

    class Source(models.TextChoices):
        API = "api", _("Email sender (API)")
        PIXEL = "pixel", _("Open pixel")
        LINK = "link", _("Tracked link")
        WEBHOOK = "hook", _("Email service webhook")
        REPLY = "reply", _("Bounce read in the replies")

    prospect = models.ForeignKey(
        "prospects.Prospect", verbose_name=_("prospect"), on_delete=models.CASCADE, related_name="email_events"
    )
    message_id = models.CharField(_("message id"), max_length=200)
    event = models.CharField(_("event"), max_length=12, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    received_at = models.DateTimeField(_("received at"))
    source = models.CharField(_("source"), max_length=5, choices=Source.choices, default=Source.API)
    # Empty for a possible human; otherwise why a machine fetched it. The one record of "machine".
    machine_reason = models.CharField(_("why machine"), max_length=200, blank=True)
    url = models.CharField(_("link destination"), max_length=2048, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)
    client_network = models.GenericIPAddressField(_("client network"), null=True, blank=True)
    # "<provider>:<the provider's event id>" for webhook events, NULL otherwise: a provider that delivers
    # the same event twice (a retry after a lost answer) is stored once, by the unique index.
    provider_event_id = models.CharField(_("provider event id"), max_length=200, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("email event")
        verbose_name_plural = _("email events")
        indexes = [
            models.Index(fields=["received_at"], name="email_received_idx"),
            # Reopen detection and machine-open checks look up a message's sent/delivered event.
            models.Index(fields=["message_id", "event"], name="email_message_idx"),
            models.Index(fields=["prospect", "occurred_at"], name="email_prospect_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.message_id}"

    @property
    def is_machine(self) -> bool:
        return bool(self.machine_reason)

    @property
    def why_machine(self) -> str:
        """The machine reason as people read it (LANGUAGE_CODE); "" for a possible human."""
        return describe_machine_reason(self.machine_reason) if self.machine_reason else ""


class MessageOpenCount(models.Model):
    """Opens (and clicks) of one message counted in aggregate: what the pixel and the links record for a
    prospect without the consent individual measurement needs (prospects/consent.py). Keyed by the
    message id alone: no prospect, no network, no user agent, no time of each open — the CNIL's
    recommendation exempts aggregate open rates, and nothing here can become a re-open signal."""

    message_id = models.CharField(_("message id"), max_length=200, unique=True)
    opens = models.PositiveIntegerField(_("opens"), default=0)
    machine_opens = models.PositiveIntegerField(_("machine opens"), default=0)
    clicks = models.PositiveIntegerField(_("clicks"), default=0)

    class Meta:
        verbose_name = _("aggregate opens of a message")
        verbose_name_plural = _("aggregate opens of messages")

    def __str__(self) -> str:
        return f"{self.message_id}: {self.opens}"


class WebhookUnknownRecipients(models.Model):
    """How many well-authenticated webhook events were about addresses that are not prospects, per
    provider and day. Only counted: the address of someone who is not a prospect is not ours to keep,
    but a count that suddenly grows says the prospect list and the sender's list drifted apart."""

    provider = models.CharField(_("provider"), max_length=20)
    day = models.DateField(_("day"))
    count = models.PositiveIntegerField(_("events"), default=0)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook events for unknown addresses")
        verbose_name_plural = _("webhook events for unknown addresses")
        constraints = [models.UniqueConstraint(fields=["provider", "day"], name="webhook_unknown_provider_day")]

    def __str__(self) -> str:
        return f"{self.provider} {self.day}: {self.count}"


class BookingTool(models.TextChoices):
    CALCOM = "calcom", "Cal.com"
    CALENDLY = "calendly", "Calendly"
    # Written by the founder from the call form ("RDV pris" with a date): verified by nature.
    PHONE = "appel", _("By phone")


class Meeting(models.Model):
    """A meeting a prospect booked through a booking tool (docs/interface.md): an outside tool's word about
    a prospect, like an email service's events. One row per booking of the tool (its own id); a
    reschedule that the tool reports as a new booking makes a new row and marks the old one moved."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        RESCHEDULED = "rescheduled", _("Moved to another time")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("No-show")
        HELD = "held", _("Held")

    prospect = models.ForeignKey(
        "prospects.Prospect", verbose_name=_("prospect"), on_delete=models.CASCADE, related_name="meetings"
    )
    tool = models.CharField(_("booking tool"), max_length=10, choices=BookingTool.choices)
    # The tool's id of the booking: Cal.com's uid, Calendly's scheduled event URI.
    external_id = models.CharField(_("booking id"), max_length=300)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.BOOKED)
    invitee_email = models.EmailField(_("invitee email"), max_length=254, blank=True)
    # How the booking was tied to the prospect: the ak the booking link carried (verified) or the
    # email the invitee typed into the form (unverified), as for visits.
    match_method = models.CharField(_("match method"), max_length=20, choices=MatchMethod.choices)
    # When the tool reported this booking (or its new time): detection reads the bookings since its last
    # window by this column, and the ledger traces what preceded it.
    booked_at = models.DateTimeField(_("booked at"))
    # The prospect's status before this (verified) booking moved it to "meeting booked": a cancellation
    # puts it back. Empty when the booking moved nothing (unverified, or a status it never changes).
    prospect_status_before = models.CharField(_("prospect status before the booking"), max_length=20, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["tool", "external_id"], name="meeting_once_per_booking"),
        ]
        indexes = [
            models.Index(fields=["booked_at"], name="meeting_booked_idx"),
            models.Index(fields=["prospect", "starts_at"], name="meeting_prospect_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_tool_display()} {moment_display(self.starts_at)} ({self.get_status_display()})"

    @property
    def identification(self) -> str:
        return identification_of(self.match_method)


class BookingDelivery(models.Model):
    """Each booking-tool delivery, stored once (the tool's retry of a delivery whose answer it lost
    finds its key here and changes nothing)."""

    tool = models.CharField(_("booking tool"), max_length=10, choices=BookingTool.choices)
    # "<tool>:<event>:<booking id>:<time>" or a hash of the body when the tool names no event.
    key = models.CharField(_("delivery key"), max_length=200, unique=True)
    event = models.CharField(_("event"), max_length=60)
    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("booking tool delivery")
        verbose_name_plural = _("booking tool deliveries")

    def __str__(self) -> str:
        return self.key


# A meeting without an end time is taken to last this long.
MEETING_DEFAULT_LENGTH_MINUTES = 60


def meetings_over(now: datetime) -> models.Q:
    """Meetings whose time is over at `now`: past their end, or an hour past their start when the tool
    gave no end. The one definition of "over": upcoming meetings are the booked ones not over, and
    held ones (`meetings_held`) are counted by it in the funnel and the ledger alike."""
    without_end = now - timedelta(minutes=MEETING_DEFAULT_LENGTH_MINUTES)
    return models.Q(ends_at__lte=now) | models.Q(ends_at__isnull=True, starts_at__lte=without_end)


def meeting_is_over(meeting: "Meeting", now: datetime) -> bool:
    """`meetings_over` for one meeting in hand (the webhook deciding a status before it saves)."""
    end = meeting.ends_at or meeting.starts_at + timedelta(minutes=MEETING_DEFAULT_LENGTH_MINUTES)
    return end <= now


def meetings_held(now: datetime) -> models.Q:
    """Held: the tool said so (Cal.com's "meeting ended", attendees marked as having come), or it was
    booked and is over with no cancellation or no-show reported."""
    return models.Q(status=Meeting.Status.HELD) | (models.Q(status=Meeting.Status.BOOKED) & meetings_over(now))


def upcoming_meetings(now: datetime) -> "models.QuerySet[Meeting]":
    """Booked meetings not yet over (docs/interface.md: until then the prospect is not texted for its other
    signals)."""
    return Meeting.objects.filter(status=Meeting.Status.BOOKED).exclude(meetings_over(now))


def silencing_meetings(now: datetime) -> "models.QuerySet[Meeting]":
    """The upcoming meetings that silence their prospect's other signals, keep it off "to call" and
    stop reminders: verified ones only (the booking link's ak; an email typed into a public booking
    page proves nothing), starting within MEETING_SILENCE_MAX_DAYS (a booking months ahead is no
    reason to stay quiet now)."""
    horizon = now + timedelta(days=settings.MEETING_SILENCE_MAX_DAYS)
    return upcoming_meetings(now).filter(match_method__in=VERIFIED_METHODS, starts_at__lte=horizon)


# Replies read from the mailbox or inbound webhooks live in their own module (tracking/replies/).
from tracking.replies.models import InboundReply, MailboxCursor, ReplyKind  # noqa: E402, F401
