from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alerts.evidence import evidence_sentence
from core.display import channel_display, moment_display, phone_display
from tracking.models import Identification


class Signal(models.TextChoices):
    PAGE_DWELL = "page_dwell", _("Long visit")
    CTA_CLICK = "cta_click", _("CTA click")
    EMAIL_REOPEN = "email_reopen", _("Email reopened")
    MEETING_BOOKED = "meeting_booked", _("Meeting booked")
    EMAIL_REPLY = "email_reply", _("Replied to the email")


class CallOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    VOICEMAIL = "voicemail", _("Voicemail")
    MEETING_BOOKED = "meeting_booked", _("Meeting booked")
    NOT_INTERESTED = "not_interested", _("Not interested")
    WRONG_PERSON = "wrong_person", _("Wrong person")
    NO_ANSWER = "no_answer", _("No answer")
    # The signal was not a person's intent (a reply "9" to the alert SMS): counted in the ledger.
    FALSE_ALARM = "false_alarm", _("False alarm")


class Alert(models.Model):
    """One detected signal. Its deliveries are the SMS outbox."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued for SMS")
        SENT = "sent", _("SMS sent")
        FAILED = "failed", _("SMS failed")
        COOLDOWN = "cooldown", _("Not texted: cooldown")
        STALE = "stale", _("Not texted: evidence too old")
        MUTED = "muted", _("Not texted: do not contact")
        HELD = "held", _("Held for review")
        DISMISSED = "dismissed", _("Dismissed after review")
        GROUPED = "grouped", _("In the hourly summary SMS")
        MEETING = "meeting", _("Not texted: meeting booked")
        QUIET = "quiet", _("Quiet hours: in the digest when they end")
        # Waiting (quiet hours, the hourly summary, review) when the prospect refused tracking: it leaves
        # in no digest, summary or release (alerts/services.py alerts_consent_withdrawn).
        NO_CONSENT = "no_consent", _("Not texted: tracking refused")

    prospect = models.ForeignKey(
        "prospects.Prospect", verbose_name=_("prospect"), on_delete=models.CASCADE, related_name="alerts"
    )
    signal = models.CharField(_("signal"), max_length=20, choices=Signal.choices)
    # One alert per piece of evidence (a page view, a click, a message): re-running detection over the
    # same events inserts nothing, whatever the number of workers.
    dedup_key = models.CharField(_("evidence key"), max_length=300, unique=True)
    occurred_at = models.DateTimeField(_("signal time"))
    detected_at = models.DateTimeField(_("detected at"), auto_now_add=True)
    evidence = models.JSONField(_("evidence"), default=dict)
    message = models.CharField(_("SMS text"), max_length=480, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    # "" for alerts recorded before identification strength was kept.
    identification = models.CharField(
        _("identification"), max_length=10, choices=Identification.choices, blank=True, default=""
    )
    # The /24 (or /48) the evidence came from: unverified signals for several prospects from one network
    # within an hour are held for review.
    client_network = models.GenericIPAddressField(_("client network"), null=True, blank=True)
    # Its SMS finally failed and someone saw it: /healthz stops answering 503 for it.
    failure_acknowledged_at = models.DateTimeField(_("failure acknowledged at"), null=True, blank=True)
    # Claimed by the one worker that queues its reminder (ALERT_REMIND_AFTER_MINUTES): never two.
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    # Held by quiet hours, the founder was told in this morning digest (set when its text is written):
    # the ledger times the call from the digest's SMS.
    digest = models.ForeignKey(
        "SmsNotice",
        verbose_name=_("listed in the quiet-hours digest"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="listed_alerts",
    )
    # The call that handled this alert (who, when, outcome, note live on the Call): set = acknowledged.
    call = models.ForeignKey(
        "Call",
        verbose_name=_("handled by call"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
    )

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-detected_at"]
        indexes = [
            models.Index(fields=["-detected_at"], name="alert_detected_idx"),
            models.Index(fields=["prospect", "-detected_at"], name="alert_prospect_idx"),
            models.Index(fields=["status"], name="alert_status_idx"),
            models.Index(fields=["client_network", "-detected_at"], name="alert_network_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(signal__in=Signal.values), name="alert_signal_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_signal_display()} — {self.prospect}"

    @property
    def evidence_sentence(self) -> str:
        """What happened, in the active language ("A cliqué « Réserver audit »")."""
        return evidence_sentence(
            self.signal, self.evidence, unverified=self.identification == Identification.UNVERIFIED
        )

    @property
    def acknowledged(self) -> bool:
        return self.call_id is not None


class Call(models.Model):
    """A call made to a prospect, and what came of it (recorded from the hot-leads page, or from a
    reply to the alert SMS)."""

    class Via(models.TextChoices):
        OFFICE = "office", _("Back office")
        SMS_REPLY = "sms_reply", _("Reply to the SMS")

    prospect = models.ForeignKey(
        "prospects.Prospect", verbose_name=_("prospect"), on_delete=models.CASCADE, related_name="calls"
    )
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("called by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    called_at = models.DateTimeField(_("called at"), auto_now_add=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=CallOutcome.choices)
    note = models.TextField(_("note"), blank=True)
    # The first line the caller was shown (the call opener of the signal), as it read then: the ledger
    # compares openers by their words, which staff may change during a campaign.
    opener = models.CharField(_("opener used"), max_length=300, blank=True)
    via = models.CharField(_("recorded from"), max_length=10, choices=Via.choices, default=Via.OFFICE)
    # "Rappeler jeudi 10:00": the lead comes back on the hot-leads page then, and the founder is texted
    # (alerts/callbacks.py). Done once a later call to the prospect is recorded.
    callback_at = models.DateTimeField(_("call back at"), null=True, blank=True)
    # The call-back's SMS, written by the one worker that claims it: never two.
    callback_notice = models.ForeignKey(
        "SmsNotice",
        verbose_name=_("call-back SMS"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="callbacks",
    )
    # "RDV pris" with its date and time: the meeting this call booked (tool "appel").
    meeting = models.ForeignKey(
        "tracking.Meeting",
        verbose_name=_("meeting booked"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-called_at"]
        indexes = [
            models.Index(fields=["prospect", "-called_at"], name="call_prospect_idx"),
            models.Index(fields=["-called_at"], name="call_time_idx"),
            models.Index(fields=["callback_at"], name="call_callback_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.prospect} — {self.get_outcome_display()}"


class SmsNotice(models.Model):
    """An SMS about several alerts rather than one lead: the held-alerts notice, or the summary of the
    alerts past the hourly budget. One per kind and period (unique): it is sent at most once."""

    class Kind(models.TextChoices):
        HELD = "held", _("Held alerts notice")
        SUMMARY = "summary", _("Hourly summary")
        # One per quiet period; its period_start is the period's END, when it leaves (alerts/quiet.py),
        # which may be the evening (quiet days, daytime quiet hours): never called "of the morning".
        DIGEST = "digest", _("Quiet-hours digest")
        # A call-back the founder set when recording a call ("rappeler jeudi 10:00"): one per call-back.
        CALLBACK = "callback", _("Call-back")
        # `send_test_sms`, sent directly and kept here as sent: a reply to it must not land on a lead.
        TEST = "test", _("Test SMS")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    period_start = models.DateTimeField(_("period start"))
    # Written when its first SMS is sent, so that it counts what happened until then.
    message = models.CharField(_("SMS text"), max_length=480, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("SMS notice")
        verbose_name_plural = _("SMS notices")
        constraints = [
            # Call-backs are one per call (Call.callback_notice), however many fall due at one time.
            models.UniqueConstraint(
                fields=["kind", "period_start"], condition=~models.Q(kind="callback"), name="notice_once_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {moment_display(self.period_start)}"


class HourlySmsBudget(models.Model):
    """SMS about single alerts sent in one clock hour, spent by a conditional UPDATE (never over)."""

    hour = models.DateTimeField(_("hour"), unique=True)
    used = models.PositiveIntegerField(_("SMS sent"), default=0)
    # Unverified alerts spend a budget of their own (ALERT_UNVERIFIED_MAX_PER_HOUR): forged claims
    # never leave a verified alert waiting for the summary.
    unverified_used = models.PositiveIntegerField(_("SMS sent about unverified alerts"), default=0)

    class Meta:
        verbose_name = _("hourly SMS budget")
        verbose_name_plural = _("hourly SMS budgets")

    def __str__(self) -> str:
        return f"{moment_display(self.hour)}: {self.used}"


class AlertDelivery(models.Model):
    """One message to one recipient for one alert (or one notice): an SMS to a number, or a rich
    message to an Apprise channel (ALERT_CHANNELS). Claimed by a conditional UPDATE before each send."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        RETRY = "retry", _("To retry")
        SENT = "sent", _("Sent")
        RECEIVED = "received", _("Received")  # the handset's delivery receipt (SMS only)
        FAILED = "failed", _("Failed")

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        APPRISE = "apprise", _("Channel")

    class Purpose(models.TextChoices):
        ALERT = "alert", _("The alert")
        SMS_NOT_RECEIVED = "sms_not_received", _("The alert, because its SMS was not received")
        REMINDER = "reminder", _("Reminder: nobody called yet")

    class Receipt(models.TextChoices):
        NONE = "", _("not asked")
        ASKED = "asked", _("asked, no receipt yet")
        RECEIVED = "received", _("received")
        NOT_RECEIVED = "not_received", _("not received")

    alert = models.ForeignKey(
        Alert, verbose_name=_("alert"), null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    notice = models.ForeignKey(
        SmsNotice, verbose_name=_("notice"), null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    # An E.164 number for SMS; for a channel, "apprise:" + a hash of its URL (the URL holds secrets:
    # it stays in the environment, ALERT_CHANNELS), and `label` shows it without them.
    recipient = models.CharField(_("recipient"), max_length=100)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.SMS)
    label = models.CharField(_("sent to"), max_length=200, blank=True)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices, default=Purpose.ALERT)
    receipt = models.CharField(_("handset receipt"), max_length=15, choices=Receipt.choices, blank=True, default="")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    provider_ids = models.JSONField(_("provider ids"), default=list, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    # Set after an ambiguous failure: the provider is asked whether the SMS left before any re-send.
    needs_check = models.BooleanField(_("check before re-sending"), default=False)
    # While SENDING: the time after which the claim is considered abandoned (worker died mid-send).
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    # While RETRY: not before this time (backoff). The relay schedule hands it over when due.
    retry_at = models.DateTimeField(_("next try"), null=True, blank=True)
    # Temporary failures are retried until SMS_GIVE_UP_AFTER_MINUTES after this (reset by a resend).
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("SMS delivery")
        verbose_name_plural = _("SMS deliveries")
        constraints = [
            models.UniqueConstraint(fields=["alert", "recipient", "purpose"], name="delivery_once_per_recipient"),
            models.UniqueConstraint(fields=["notice", "recipient"], name="notice_once_per_recipient"),
            models.CheckConstraint(
                condition=models.Q(alert__isnull=True, notice__isnull=False)
                | models.Q(alert__isnull=False, notice__isnull=True),
                name="delivery_of_alert_or_notice",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "lease_until"], name="delivery_status_idx"),
            # The receipt poll reads the SMS sent in the last minutes whose receipt is still open.
            models.Index(fields=["receipt", "sent_at"], name="delivery_receipt_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sent_to} — {self.get_status_display()}"

    @property
    def sent_to(self) -> str:
        """Whom it went to, as anyone who may see deliveries reads it: a phone number grouped, a channel
        by its scheme and host only (its path or user may hold a topic or a token; core/display.py)."""
        if self.channel == self.Channel.SMS:
            return phone_display(self.recipient)
        return channel_display(self.label)

    @property
    def tag(self) -> str:
        # Sent with the OVH job so an ambiguous failure can be checked before any re-send.
        return f"arkwatch-d{self.pk}"


class SignalCooldown(models.Model):
    """The cooldown claim: one row per (prospect, signal, verified or not), taken by a conditional
    UPDATE. Unverified alerts take a row of their own: a forged claim never burns the cooldown of the
    prospect's own verified signal."""

    prospect = models.ForeignKey(
        "prospects.Prospect", verbose_name=_("prospect"), on_delete=models.CASCADE, related_name="+"
    )
    signal = models.CharField(_("signal"), max_length=20, choices=Signal.choices)
    verified = models.BooleanField(_("verified"), default=True)
    last_alerted_at = models.DateTimeField(_("last texted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("signal cooldown")
        verbose_name_plural = _("signal cooldowns")
        constraints = [models.UniqueConstraint(fields=["prospect", "signal", "verified"], name="cooldown_once")]

    def __str__(self) -> str:
        return f"{self.prospect_id}/{self.signal}/{'verified' if self.verified else 'unverified'}"


class DetectionRun(models.Model):
    """One detection cycle; the newest finished window_end is the cursor of the next cycle."""

    class Trigger(models.TextChoices):
        """Why the cycle ran: the schedule, a command, or the event that could complete a signal."""

        SCHEDULE = "schedule", _("Schedule")
        COMMAND = "command", _("Command")
        MANUAL = "manual", _("By hand")
        CTA = "cta", _("CTA click")
        DWELL = "dwell", _("Long visit")
        EMAIL_OPEN = "email_open", _("Email open")
        IDENTIFY = "identify", _("Identify")
        MANUAL_LINK = "manual_link", _("Visitor linked by hand")
        MEETING = "meeting", _("Meeting booked")

    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    window_start = models.DateTimeField(_("events from"), null=True, blank=True)
    window_end = models.DateTimeField(_("events until"))
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices, default=Trigger.SCHEDULE)
    events_scanned = models.PositiveIntegerField(_("events read"), default=0)
    visitors_matched = models.PositiveIntegerField(_("visitors matched"), default=0)
    signals_found = models.PositiveIntegerField(_("signals found"), default=0)
    alerts_created = models.PositiveIntegerField(_("alerts recorded"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("detection run")
        verbose_name_plural = _("detection runs")
        indexes = [
            models.Index(fields=["-finished_at"], name="run_finished_idx"),
            # The next cycle's cursor, read by every cycle: a flood runs a thousand cycles a minute, and
            # without it the read scanned them all (docs/benchmarks.md, "Figures that used to live in code comments").
            models.Index(fields=["-window_end"], name="run_window_end_idx"),
            # Pruning and "watching since".
            models.Index(fields=["started_at"], name="run_started_idx"),
        ]

    def __str__(self) -> str:
        return f"{moment_display(self.started_at)} ({self.get_trigger_display()})"


class SmsReply(models.Model):
    """A reply to an alert SMS read from the provider (OVH_SMS_REPLIES): remembered by its provider id,
    so that a reply is recorded once even when deleting it at the provider failed."""

    provider_id = models.CharField(_("provider id"), max_length=64, unique=True)
    sender = models.CharField(_("from"), max_length=32)
    text = models.CharField(_("text"), max_length=160, blank=True)
    received_at = models.DateTimeField(_("received at"))

    class Ignored(models.TextChoices):
        NO_CODE = "no_code", _("Not a code (1, 2, 3 or 9)")
        UNKNOWN_NUMBER = "unknown_number", _("No SMS was sent to this number")
        NOT_A_LEAD = "not_a_lead", _("The last SMS to this number was not about one lead")
        TOO_OLD = "too_old", _("The last SMS to this number is too old (OVH_SMS_REPLY_WINDOW_HOURS)")
        AMBIGUOUS = "ambiguous", _("Two SMS to this number left around the time of the reply")

    # The alert the reply is about (the lead of the most recent SMS to that number), and the call it
    # recorded; both empty for a reply that changed nothing, and `ignored` says why.
    alert = models.ForeignKey(
        Alert, verbose_name=_("alert"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    call = models.ForeignKey(
        Call, verbose_name=_("call"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ignored = models.CharField(_("ignored because"), max_length=20, choices=Ignored.choices, blank=True)
    # The most recent SMS to that number when the reply came: an alert's (a lead's), or a notice's
    # (digest, summary, held notice, test SMS). Only the first kind, recent enough, takes a reply.
    last_sms = models.ForeignKey(
        AlertDelivery,
        verbose_name=_("last SMS to this number"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("SMS reply")
        verbose_name_plural = _("SMS replies")

    def __str__(self) -> str:
        return f"{self.sender}: {self.text[:20]}"
