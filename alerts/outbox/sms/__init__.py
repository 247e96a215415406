"""Pluggable SMS sending, the way Django's email backends work: SMS_BACKEND names one of
`console`, `locmem`, `ovh`, or a dotted path to a BaseSmsBackend subclass."""

from django.conf import settings
from django.utils.module_loading import import_string

from alerts.outbox.sms.base import BaseSmsBackend, SendResult, SmsError, SmsMessage

__all__ = ["BaseSmsBackend", "SendResult", "SmsError", "SmsMessage", "get_sms_backend", "outbox", "receipts"]

BACKEND_ALIASES = {
    "console": "alerts.outbox.sms.console.ConsoleSmsBackend",
    "locmem": "alerts.outbox.sms.locmem.LocmemSmsBackend",
    "ovh": "alerts.outbox.sms.ovh.OvhSmsBackend",
}

# Filled by the locmem backend, like django.core.mail.outbox; tests empty it between tests.
outbox: list[SmsMessage] = []
# Handset receipts the locmem backend reports, by provider id (tests set them).
receipts: dict[str, bool] = {}


# Where the backends lived before alerts/ was split by job: an operator's SMS_BACKEND written then
# (a dotted path to a backend of ours, or to a subclass beside them) still loads.
FORMER_PACKAGE = "alerts" + ".sms."


def get_sms_backend(name: str | None = None) -> BaseSmsBackend:
    name = name or settings.SMS_BACKEND
    if name.startswith(FORMER_PACKAGE):
        name = "alerts.outbox.sms." + name.removeprefix(FORMER_PACKAGE)
    return import_string(BACKEND_ALIASES.get(name, name))()
