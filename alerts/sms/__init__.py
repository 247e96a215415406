"""Pluggable SMS sending, the way Django's email backends work: SMS_BACKEND names one of
`console`, `locmem`, `ovh`, or a dotted path to a BaseSmsBackend subclass."""

from django.conf import settings
from django.utils.module_loading import import_string

from alerts.sms.base import BaseSmsBackend, SendResult, SmsError, SmsMessage

__all__ = ["BaseSmsBackend", "SendResult", "SmsError", "SmsMessage", "get_sms_backend", "outbox", "receipts"]

BACKEND_ALIASES = {
    "console": "alerts.sms.console.ConsoleSmsBackend",
    "locmem": "alerts.sms.locmem.LocmemSmsBackend",
    "ovh": "alerts.sms.ovh.OvhSmsBackend",
}

# Filled by the locmem backend, like django.core.mail.outbox; tests empty it between tests.
outbox: list[SmsMessage] = []
# Handset receipts the locmem backend reports, by provider id (tests set them).
receipts: dict[str, bool] = {}


def get_sms_backend(name: str | None = None) -> BaseSmsBackend:
    name = name or settings.SMS_BACKEND
    return import_string(BACKEND_ALIASES.get(name, name))()
