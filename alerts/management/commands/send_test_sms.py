from typing import Any

import phonenumbers
from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from alerts.outbox.delivery import sms_sent_directly_record
from alerts.outbox.gsm import to_gsm7
from alerts.outbox.sms import SmsError, SmsMessage, get_sms_backend
from core.commands import ProductCommand
from core.display import phone_display


class Command(ProductCommand):
    help = gettext_noop("Send one test SMS through the configured SMS_BACKEND (default: to ALERT_SMS_RECIPIENTS).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", help=_("an E.164 number, e.g. +447700900123"))

    def handle(self, *args: Any, to: str | None, **options: Any) -> None:
        recipients = [to] if to else list(settings.ALERT_SMS_RECIPIENTS)
        if not recipients:
            raise CommandError(_("No recipient: pass --to or set ALERT_SMS_RECIPIENTS."))
        for number in recipients:
            if number == "console" and settings.SMS_BACKEND == "console":
                continue  # development (`make run`): the alerts' own pseudo-recipient, printed, not texted
            try:
                if not phonenumbers.is_valid_number(phonenumbers.parse(number, None)):
                    raise ValueError
            except (phonenumbers.NumberParseException, ValueError) as exc:
                raise CommandError(
                    _("“%(number)s” is not a valid E.164 number (e.g. +447700900123).") % {"number": number}
                ) from exc
        try:
            backend = get_sms_backend()
            for number in recipients:
                stamp = timezone.localtime().strftime("%H:%M:%S")
                body = to_gsm7(_("ArkWatch: test SMS (%(time)s). All is well.") % {"time": stamp})
                result = backend.send(
                    SmsMessage(to=number, body=body, tag=f"arkwatch-test-{timezone.now():%Y%m%d%H%M%S}")
                )
                # The phone's last SMS is now this one: a reply to it must not land on a lead.
                sms_sent_directly_record(
                    number=number, text=body, provider_ids=list(result.provider_ids), now=timezone.now()
                )
                if number == "console":
                    self.stdout.write(
                        self.style.SUCCESS(
                            _(
                                "Printed above, not sent: SMS_BACKEND is console (development). Set the OVH "
                                "settings and ALERT_SMS_RECIPIENTS in .env for real SMS."
                            )
                        )
                    )
                    continue
                self.stdout.write(
                    self.style.SUCCESS(
                        _("Sent to %(number)s through %(backend)s (ids: %(ids)s).")
                        % {
                            "number": phone_display(number),
                            "backend": settings.SMS_BACKEND,
                            "ids": ", ".join(result.provider_ids) or "-",
                        }
                    )
                )
        except SmsError as exc:
            if exc.permanent:
                message = _("The SMS was not sent (permanent error): %(error)s")
            else:
                message = _("The SMS was not sent (temporary error, try again later): %(error)s")
            raise CommandError(message % {"error": exc}) from exc
