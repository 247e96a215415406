"""Admin pages of the outbox: alerts, their deliveries and the cooldown claims."""

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from alerts.outbox.models import Alert, AlertDelivery, SignalCooldown
from core.admin import CappedCountPaginator, ReadOnlyAdmin
from tracking.models import Identification


class DeliveryDisplay:
    """Recipient and provider ids as people read them (not E.164, not a JSON list)."""

    @admin.display(description=_("sent to"), ordering="recipient")
    def recipient_display(self, delivery: AlertDelivery) -> str:
        return delivery.sent_to

    @admin.display(description=_("provider ids"))
    def provider_ids_display(self, delivery: AlertDelivery) -> str:
        ids = delivery.provider_ids if isinstance(delivery.provider_ids, list) else [delivery.provider_ids]
        return ", ".join(str(i) for i in ids) or "—"


class AlertDeliveryInline(DeliveryDisplay, admin.TabularInline):
    model = AlertDelivery
    extra = 0
    can_delete = False
    fields = (
        "recipient_display",
        "channel",
        "purpose",
        "status",
        "receipt",
        "attempts",
        "provider_ids_display",
        "last_error",
        "sent_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class CalledFilter(admin.SimpleListFilter):
    """Whether someone called about the alert, in the founder's words (not "empty / not empty")."""

    title = _("call")
    parameter_name = "called"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return [("no", _("Not called yet")), ("yes", _("Called"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Alert]) -> QuerySet[Alert]:
        if self.value() in ("no", "yes"):
            return queryset.filter(call__isnull=self.value() == "no")
        return queryset


class IdentificationFilter(admin.SimpleListFilter):
    """Who the visitor was, and how sure we are, spelled out."""

    title = _("visitor identified by")
    parameter_name = "identification"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return [
            (Identification.VERIFIED, _("Their personal link (sure)")),
            (Identification.UNVERIFIED, _("What they said: an email, a domain (unverified)")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Alert]) -> QuerySet[Alert]:
        return queryset.filter(identification=self.value()) if self.value() else queryset


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    paginator = CappedCountPaginator
    show_full_result_count = False
    list_display = ["detected_at", "signal", "evidence_display", "prospect", "identification", "status", "call"]
    list_filter = ["signal", "status", CalledFilter, IdentificationFilter]
    list_select_related = ["prospect", "call"]
    search_fields = ["prospect__name", "prospect__email", "prospect__company"]
    date_hierarchy = "detected_at"
    inlines = [AlertDeliveryInline]
    readonly_fields = (
        "prospect",
        "signal",
        "evidence_display",
        "occurred_at",
        "detected_at",
        "identification",
        "client_network",
        "message",
        "status",
        "digest",
        "call",
    )
    fields = readonly_fields

    @admin.display(description=_("what happened"))
    def evidence_display(self, alert: Alert) -> str:
        return alert.evidence_sentence

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Alerts are evidence; a call is recorded (and acknowledges them) from the hot-leads page
        # or the prospect's timeline, through alerts.outcomes.calls.call_record only.
        return False


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(DeliveryDisplay, ReadOnlyAdmin):
    list_display = [
        "updated_at",
        "alert",
        "recipient_display",
        "status",
        "attempts",
        "provider_ids_display",
        "last_error",
    ]
    list_filter = ["status"]
    list_select_related = ["alert__prospect"]
    search_fields = ["recipient", "alert__prospect__name", "alert__prospect__company"]
    # A delivery's page shows the channel as the list does: never its stored label or key in full.
    fields = ("alert", "notice", *AlertDeliveryInline.fields, "created_at", "updated_at")
    readonly_fields = fields


@admin.register(SignalCooldown)
class SignalCooldownAdmin(ReadOnlyAdmin):
    list_display = ["prospect", "signal", "verified", "last_alerted_at"]
    list_filter = ["signal"]
    list_select_related = ["prospect"]
