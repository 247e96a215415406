"""Validation of the public payloads (CONTRACT §1–2). Strict about types: JSON numbers, lists or
objects where a string is expected are errors, not silently turned into text."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from tracking.models import EmailEvent, VisitEvent

ID_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9_-]{8,128}\Z", _("Use 8 to 128 characters among letters, digits, “_” and “-”.")
)
CTA_VALIDATOR = RegexValidator(r"^[a-z0-9_-]{1,64}\Z", _("Use 1 to 64 characters among a-z, 0-9, “_” and “-”."))
TOKEN_VALIDATOR = RegexValidator(r"^[A-Za-z0-9_-]{1,64}\Z", _("This is not an identity token."))
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def validate_http_url(value: str) -> None:
    if _CONTROL.search(value):
        raise ValidationError(_("The URL contains control characters."))
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise ValidationError(_("This is not a valid URL.")) from exc
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError(_("Give an absolute http(s) URL."))


def validate_page(value: str) -> None:
    if value.startswith("/") and not value.startswith("//"):
        if _CONTROL.search(value):
            raise ValidationError(_("The path contains control characters."))
        return
    validate_http_url(value)


class StrictCharField(forms.CharField):
    def to_python(self, value):
        if value not in self.empty_values and not isinstance(value, str):
            raise ValidationError(_("Must be a string."), code="type")
        return super().to_python(value)


class StrictEmailField(forms.EmailField):
    def to_python(self, value):
        if value not in self.empty_values and not isinstance(value, str):
            raise ValidationError(_("Must be a string."), code="type")
        return super().to_python(value).lower()


class StrictChoiceField(forms.ChoiceField):
    def to_python(self, value):
        if value not in self.empty_values and not isinstance(value, str):
            raise ValidationError(_("Must be a string."), code="type")
        return super().to_python(value)


class StrictIntegerField(forms.IntegerField):
    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(_("Must be a whole number."), code="type")
        return value


class BrowserEventForm(forms.Form):
    visitor_id = StrictCharField(validators=[ID_VALIDATOR], strip=False)
    page = StrictCharField(max_length=2048, validators=[validate_page], strip=False)
    page_view_id = StrictCharField(required=False, validators=[ID_VALIDATOR], strip=False)
    ak = StrictCharField(required=False, validators=[TOKEN_VALIDATOR], strip=False)
    email = StrictEmailField(required=False)
    referrer = StrictCharField(required=False, max_length=2048, validators=[validate_http_url], strip=False)


class VisitForm(BrowserEventForm):
    event = StrictChoiceField(choices=VisitEvent.Kind.choices, required=False)
    engaged_ms = StrictIntegerField(required=False, min_value=0, max_value=10**12)

    def clean_event(self) -> str:
        return self.cleaned_data.get("event") or VisitEvent.Kind.HEARTBEAT


class CtaForm(BrowserEventForm):
    cta_id = StrictCharField(validators=[CTA_VALIDATOR], strip=False)


class IdentifyForm(forms.Form):
    visitor_id = StrictCharField(validators=[ID_VALIDATOR], strip=False)
    email = StrictEmailField()
    page = StrictCharField(required=False, max_length=2048, validators=[validate_page], strip=False)


class EmailEventForm(forms.Form):
    email = StrictEmailField()
    message_id = StrictCharField(max_length=200, strip=False)
    event = StrictChoiceField(choices=EmailEvent.Kind.choices)
    occurred_at = StrictCharField(required=False)
    user_agent = StrictCharField(required=False, max_length=512)

    def clean_message_id(self) -> str:
        value = self.cleaned_data["message_id"]
        if not value.strip() or _CONTROL.search(value):
            raise ValidationError(_("Give the message id as 1 to 200 printable characters."))
        return value

    def clean_occurred_at(self):
        raw = self.cleaned_data.get("occurred_at")
        if not raw:
            return timezone.now()
        try:
            value = parse_datetime(raw)
        except ValueError:
            value = None
        if value is None or value.tzinfo is None:
            raise ValidationError(_("Give an ISO 8601 date and time with its offset, e.g. 2026-11-24T09:14:00+01:00."))
        if not 2000 <= value.year <= 2100:
            raise ValidationError(_("This date is out of range."))
        if value > timezone.now() + timedelta(minutes=5):
            raise ValidationError(_("This time is more than 5 minutes in the future."))
        return value


def form_error_payload(form: forms.Form) -> dict:
    fields = {name: " ".join(str(m) for m in errors) for name, errors in form.errors.items()}
    names = ", ".join(fields)
    return {"error": str(_("The event was not stored: check %(fields)s.") % {"fields": names}), "fields": fields}
