from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from alerts.outbox.channels import ChannelError, channel_label, configured_channels, send_to_channel
from alerts.outbox.sms import SmsError, SmsMessage, get_sms_backend
from core.commands import ProductCommand
from core.display import phone_display


class Command(ProductCommand):
    help = gettext_noop(
        "Send one test message to every SMS recipient and every channel of ALERT_CHANNELS; say which failed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        stamp = timezone.localtime().strftime("%H:%M:%S")
        text = _("ArkWatch: test alert (%(time)s). All good.") % {"time": stamp}
        results: list[tuple[str, str]] = []  # (where, problem or "")
        for number in dict.fromkeys(settings.ALERT_SMS_RECIPIENTS):
            try:
                tag = f"arkwatch-test-{timezone.now():%Y%m%d%H%M%S}"
                get_sms_backend().send(SmsMessage(to=number, body=text, tag=tag))
                results.append((f"SMS {phone_display(number)}", ""))
            except SmsError as exc:
                results.append((f"SMS {phone_display(number)}", str(exc)))
        for key, url in configured_channels().items():
            try:
                send_to_channel(key=key, title="ArkWatch", body=text)
                results.append((channel_label(url), ""))
            except ChannelError as exc:
                results.append((channel_label(url), str(exc)))
        if not results:
            raise CommandError(_("Nothing to check: set ALERT_SMS_RECIPIENTS or ALERT_CHANNELS."))
        for where, problem in results:
            if problem:
                line = _("FAILED %(where)s: %(problem)s") % {"where": where, "problem": problem}
                self.stdout.write(self.style.ERROR(line))
            else:
                self.stdout.write(self.style.SUCCESS(_("sent %(where)s") % {"where": where}))
        failed = sum(1 for _where, problem in results if problem)
        if failed:
            summary = _("%(failed)d of %(total)d destinations failed.") % {"failed": failed, "total": len(results)}
            raise CommandError(summary)
