"""What a signal is (its kinds) and the record of each detection cycle that looks for them."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.display import moment_display


class Signal(models.TextChoices):
    PAGE_DWELL = "page_dwell", _("Long visit")
    CTA_CLICK = "cta_click", _("CTA click")
    EMAIL_REOPEN = "email_reopen", _("Email reopened")
    MEETING_BOOKED = "meeting_booked", _("Meeting booked")
    EMAIL_REPLY = "email_reply", _("Replied to the email")


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
