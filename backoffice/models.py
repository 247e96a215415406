from django.db import models
from django.utils.translation import gettext_lazy as _

from alerts.signals.models import Signal

# What the founder said first in the old system, in French like the SMS. A migration writes them as
# rows staff can edit; a signal without its row (deleted by hand) still opens with its default.
DEFAULT_CALL_OPENERS = {
    Signal.PAGE_DWELL: "Je vois que vous étudiez notre audit gratuit — je vous en résume l'essentiel ?",
    Signal.CTA_CLICK: "Vous venez de cliquer — je peux vous briefer maintenant ?",
    Signal.EMAIL_REOPEN: "Vous avez rouvert mon email — des questions ?",
    Signal.EMAIL_REPLY: "Merci pour votre réponse à mon email — vous avez deux minutes ?",
}


class CallOpener(models.Model):
    """The first line to say when calling a lead, one per signal: the caller opens with what the
    prospect just did, then follows the prospect's own call script. Staff edit them in the admin; the
    three rows are created by a migration."""

    signal = models.CharField(_("signal"), max_length=20, choices=Signal.choices, unique=True)
    text = models.CharField(_("opener"), max_length=300, help_text=_("The first sentence to say on the phone."))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("call opener")
        verbose_name_plural = _("call openers")
        ordering = ["signal"]

    def __str__(self) -> str:
        return self.get_signal_display()
