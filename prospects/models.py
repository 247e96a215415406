import ipaddress
import secrets
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.spreadsheets import FORMULA_STARTS
from prospects.domains import domain_of_url, email_domain, registrable_domain, why_not_a_company_domain


def new_identity_token() -> str:
    # 128 bits from the OS CSPRNG: the `ak` in a personal link must not be guessable. Never starting
    # with "-": a mail-merge spreadsheet would take it for a formula (core/spreadsheets.py).
    while True:
        token = secrets.token_urlsafe(16)
        if not token.startswith(FORMULA_STARTS):
            return token


def normalize_phone(raw: str, default_region: str = "FR") -> str:
    """Validate a phone number and return it as E.164; raises ValidationError with a sentence."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    # phonenumbers reads letters as keypad digits ("01 99 00 AB CD" becomes eight digits): a typo would
    # have the founder call a stranger. A number is digits, spaces, dots, dashes, brackets and "+".
    if any(ch.isalpha() for ch in raw):
        raise ValidationError(
            _("“%(value)s” contains letters: a phone number is written with digits only."), params={"value": raw}
        )
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("“%(value)s” is not a phone number."), params={"value": raw}) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("“%(value)s” is not a valid phone number."), params={"value": raw})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_ip_ranges(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for part in (text or "").replace(",", "\n").split():
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise ValidationError(_("“%(value)s” is not an IP range (CIDR)."), params={"value": part}) from exc
    return networks


def split_domains(text: str) -> list[str]:
    domains = []
    for part in (text or "").replace(",", " ").split():
        domain = domain_of_url(part)
        if domain and domain not in domains:
            domains.append(domain)
    return domains


class ProspectStatus(models.TextChoices):
    NEW = "new", _("New")
    CONTACTED = "contacted", _("Contacted")
    HOT = "hot", _("Hot")
    CALLED = "called", _("Called")
    MEETING_BOOKED = "meeting_booked", _("Meeting booked")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")
    DO_NOT_CONTACT = "do_not_contact", _("Do not contact")


class ConsentState(models.TextChoices):
    """The prospect's answer about individual tracking (the identifying pixel, browser storage and, by
    the strictest reading, the personal link): see prospects/consent.py and docs/privacy.md."""

    UNKNOWN = "unknown", _("Not asked yet")
    GRANTED = "granted", _("Granted")
    REFUSED = "refused", _("Refused")


class ConsentSource(models.TextChoices):
    IMPORT = "import", _("Import column")
    CONSENT_LINK = "consent_link", _("Consent link in an email")
    OPTOUT_LINK = "optout_link", _("Opt-out link in an email")
    EMAIL_PROVIDER = "email_provider", _("Email provider event (unsubscribe, complaint)")
    EMAIL_REPLY = "email_reply", _("Email reply")
    STAFF = "staff", _("Staff, by hand")


class Prospect(models.Model):
    Status = ProspectStatus
    Consent = ConsentState

    name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.EmailField(_("email"), max_length=254)
    company = models.CharField(_("company"), max_length=200, blank=True)
    title = models.CharField(_("title"), max_length=200, blank=True)
    sector = models.CharField(_("sector"), max_length=200, blank=True)
    pain_point = models.TextField(_("pain point"), blank=True)
    phone = models.CharField(_("phone (E.164)"), max_length=20, blank=True)
    website = models.CharField(_("website"), max_length=300, blank=True)
    extra_domains = models.CharField(
        _("extra domains"), max_length=500, blank=True, help_text=_("Comma-separated company domains.")
    )
    # Derived from email (unless free-mail), website and extra domains; kept as a space-separated
    # string because matching loads the whole (small) list of prospects at once.
    company_domains = models.CharField(_("company domains"), max_length=1000, blank=True, editable=False)
    ip_ranges = models.TextField(
        _("IP ranges"), blank=True, help_text=_("Optional CIDR ranges of the company's offices, one per line.")
    )
    call_script = models.TextField(_("call script"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NEW)
    # The current answer; its proof is the append-only ConsentChange history below. Written only by
    # prospects/consent.py prospect_consent_record, which writes both in one transaction.
    tracking_consent = models.CharField(
        _("tracking consent"),
        max_length=10,
        choices=ConsentState.choices,
        default=ConsentState.UNKNOWN,
        db_default=ConsentState.UNKNOWN,  # rows written by hand-made INSERTs and older code paths stay valid
    )
    identity_token = models.CharField(
        _("identity token (ak)"), max_length=64, unique=True, default=new_identity_token, editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # The last time *they* reached out (a click, a reply, a booking, an answered call; opens do not
    # count), carried over from events before retention deletes them (alerts/outcomes/inactive.py): a prospect
    # silent for PROSPECT_INACTIVE_ERASE_DAYS since then (or since created) is erased.
    last_contact_at = models.DateTimeField(_("last contact from them"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("prospect")
        verbose_name_plural = _("prospects")
        ordering = ["company", "name"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="prospect_email_unique_ci",
                # What the admin says on a duplicate, rather than the constraint's name.
                violation_error_message=_("A prospect with this email address already exists."),
            ),
            models.CheckConstraint(condition=models.Q(email=Lower("email")), name="prospect_email_lowercase"),
            models.CheckConstraint(
                condition=models.Q(phone="") | models.Q(phone__regex=r"^\+[1-9][0-9]{6,14}$"),
                name="prospect_phone_e164",
            ),
            models.CheckConstraint(condition=models.Q(status__in=ProspectStatus.values), name="prospect_status_valid"),
            models.CheckConstraint(
                condition=models.Q(tracking_consent__in=ConsentState.values), name="prospect_tracking_consent_valid"
            ),
        ]
        indexes = [models.Index(fields=["status"], name="prospect_status_idx")]

    def __str__(self) -> str:
        label = self.name or self.email
        return f"{label} ({self.company})" if self.company else label

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Derived, never user input: recomputed on every save so it cannot drift from its sources.
        self.email = (self.email or "").strip().lower()
        self.company_domains = " ".join(self.compute_company_domains())
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("admin:prospects_prospect_change", args=[self.pk])

    def clean(self) -> None:
        self.email = (self.email or "").strip().lower()
        errors = {}
        try:
            self.phone = normalize_phone(self.phone)
        except ValidationError as exc:
            errors["phone"] = exc.messages
        try:
            parse_ip_ranges(self.ip_ranges)
        except ValidationError as exc:
            errors["ip_ranges"] = exc.messages
        if errors:
            raise ValidationError(errors)

    def _candidate_domains(self) -> list[str]:
        own = registrable_domain(email_domain(self.email)) if self.email else None
        candidates: list[str] = []
        for domain in [own, *split_domains(self.website), *split_domains(self.extra_domains)]:
            if domain and domain not in candidates:
                candidates.append(domain)
        return candidates

    def compute_company_domains(self) -> list[str]:
        return [d for d in self._candidate_domains() if not why_not_a_company_domain(d)]

    def domains_left_out(self) -> list[tuple[str, str]]:
        """(domain, why) for each domain of the email, website or extra domains that matches nobody."""
        reasons = [(d, why_not_a_company_domain(d)) for d in self._candidate_domains()]
        return [(domain, why) for domain, why in reasons if why]

    @property
    def domain_list(self) -> list[str]:
        return self.company_domains.split()


class RetiredIdentityToken(models.Model):
    """An `ak` replaced by a new one (a personal link leaked, or was forwarded): visits that carry it
    match nobody any more. Kept so the prospect's timeline can say when it was replaced and how many
    visits came with it since, and so forgetting the prospect also wipes it from the events."""

    prospect = models.ForeignKey(
        Prospect, verbose_name=_("prospect"), on_delete=models.CASCADE, related_name="retired_tokens"
    )
    token = models.CharField(_("retired identity token"), max_length=64, db_index=True)
    retired_at = models.DateTimeField(_("replaced at"), auto_now_add=True)
    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("replaced by"), null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = _("retired identity token")
        verbose_name_plural = _("retired identity tokens")
        ordering = ["-retired_at"]

    def __str__(self) -> str:
        return f"{self.prospect_id} {self.retired_at:%Y-%m-%d %H:%M}"


class ConsentChange(models.Model):
    """One change of a prospect's tracking consent, kept as proof: when, how, from which network and
    under which version of the notice. Append-only: rows are created by prospect_consent_record and
    never edited (the admin shows them read-only); forgetting the prospect deletes them with it."""

    prospect = models.ForeignKey(
        Prospect, verbose_name=_("prospect"), on_delete=models.CASCADE, related_name="consent_changes"
    )
    state = models.CharField(_("consent"), max_length=10, choices=ConsentState.choices)
    source = models.CharField(_("how"), max_length=20, choices=ConsentSource.choices)
    detail = models.CharField(
        _("detail"), max_length=200, blank=True, help_text=_("The provider event or file the change came from.")
    )
    # Anonymised as every network the product keeps (core/client.py anonymize_ip: IPv4 /24, IPv6 /48).
    network = models.CharField(_("network"), max_length=64, blank=True)
    notice_version = models.CharField(_("notice version"), max_length=32, blank=True)
    note = models.TextField(_("note"), blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True, on_delete=models.SET_NULL
    )
    changed_at = models.DateTimeField(_("when"), db_index=True)

    class Meta:
        verbose_name = _("consent change")
        verbose_name_plural = _("consent changes")
        ordering = ["changed_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=ConsentState.values), name="consent_change_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prospect_id} {self.state} ({self.source}) {self.changed_at:%Y-%m-%d %H:%M}"
