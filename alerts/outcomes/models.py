"""What came of an alert: the calls made (from the back office or a reply to the SMS) and the SMS replies read."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from alerts.outbox.models import Alert, AlertDelivery


class CallOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    VOICEMAIL = "voicemail", _("Voicemail")
    MEETING_BOOKED = "meeting_booked", _("Meeting booked")
    NOT_INTERESTED = "not_interested", _("Not interested")
    WRONG_PERSON = "wrong_person", _("Wrong person")
    NO_ANSWER = "no_answer", _("No answer")
    # The signal was not a person's intent (a reply "9" to the alert SMS): counted in the ledger.
    FALSE_ALARM = "false_alarm", _("False alarm")


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
    # (alerts/outcomes/callbacks.py). Done once a later call to the prospect is recorded.
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
