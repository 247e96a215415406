"""What ArkWatch keeps of the replies it read (imported by tracking/models.py so Django registers them)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tracking.choices import Identification


class ReplyKind(models.TextChoices):
    PERSON = "person", _("A person's reply")
    AUTO = "auto", _("Auto-reply")
    BOUNCE = "bounce", _("Bounce")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribe")
    NOT_INTERESTED = "not_interested", _("Not interested")


class ReplyMatch(models.TextChoices):
    SENDER = "sender", _("Sender's address")
    THREAD = "thread", _("Reply to an email ArkWatch knows")
    RECIPIENT = "recipient", _("Address the bounce names")


class ReplySource(models.TextChoices):
    IMAP = "imap", _("Mailbox (IMAP)")
    SENDGRID = "sendgrid", "SendGrid Inbound Parse"
    MAILGUN = "mailgun", _("Mailgun route")
    POSTMARK = "postmark", _("Postmark inbound")
    BREVO = "brevo", _("Brevo inbound parsing")


class InboundReply(models.Model):
    """One message about a prospect that arrived in the founder's mailbox or through an inbound webhook.
    Only messages tied to a prospect are kept: the rest of the mailbox is none of ArkWatch's business."""

    prospect = models.ForeignKey(
        "prospects.Prospect", verbose_name=_("prospect"), on_delete=models.CASCADE, related_name="replies"
    )
    # "mid:<Message-ID>" (so the same reply read over IMAP and a webhook is kept once), else a hash.
    key = models.CharField(_("message key"), max_length=300, unique=True)
    source = models.CharField(_("read from"), max_length=10, choices=ReplySource.choices)
    kind = models.CharField(_("sorted as"), max_length=16, choices=ReplyKind.choices)
    # The words or header that decided the sort ("Auto-Submitted: auto-replied", "« pas intéressé »").
    reason = models.CharField(_("why"), max_length=300, blank=True)
    # What the sorter said first; kept when staff correct the sort by hand (counted in the ledger).
    sorted_kind = models.CharField(_("sorted first as"), max_length=16, choices=ReplyKind.choices)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("corrected by"), null=True, blank=True, on_delete=models.SET_NULL
    )
    corrected_at = models.DateTimeField(_("corrected at"), null=True, blank=True)
    # A bounce saying the address takes no mail (not a delay): the address is marked undeliverable.
    undeliverable = models.BooleanField(_("address undeliverable"), default=False)
    sender = models.EmailField(_("sender"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    # The first words of the new text (above the quoted message), for the SMS and the timeline.
    excerpt = models.CharField(_("first words"), max_length=500, blank=True)
    match_method = models.CharField(_("matched by"), max_length=10, choices=ReplyMatch.choices)
    identification = models.CharField(_("identification"), max_length=10, choices=Identification.choices)
    # An out-of-office's return date, when it says one: shown on hot leads.
    back_on = models.DateField(_("back on"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at (Date header)"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), db_index=True)

    class Meta:
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["prospect", "received_at"], name="reply_prospect_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.sender or self.prospect_id}"

    @property
    def corrected(self) -> bool:
        return self.kind != self.sorted_kind


class MailboxCursor(models.Model):
    """Where the IMAP poll stopped in one mailbox folder: the folder's UIDVALIDITY and the highest UID
    read. UIDs only grow while UIDVALIDITY stays; when it changes, the folder is read again from a few
    days back (stored replies are kept once by their Message-ID)."""

    mailbox = models.CharField(_("mailbox"), max_length=300, unique=True)  # user@host/folder, no password
    uidvalidity = models.BigIntegerField(_("UIDVALIDITY"))
    last_uid = models.BigIntegerField(_("last UID read"), default=0)
    polled_at = models.DateTimeField(_("last poll"), null=True, blank=True)
    error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("mailbox cursor")
        verbose_name_plural = _("mailbox cursors")

    def __str__(self) -> str:
        return f"{self.mailbox} uid>{self.last_uid}"
