from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from core.admin import CappedCountPaginator, EvidenceAdmin, folded_ids, person_or_robot, seconds
from tracking.matching import visitor_link_by_hand
from tracking.meetings_by_hand import meeting_mark
from tracking.models import (
    CtaClick,
    EmailEvent,
    Identification,
    Meeting,
    MessageOpenCount,
    VisitEvent,
    Visitor,
    WebhookUnknownRecipients,
)


class ReaderColumns:
    """What a person reads in an event list: "humain" / "robot" in words, a duration in seconds, the
    raw ids folded away."""

    @admin.display(description=_("human / robot"), ordering="is_bot")
    def who(self, obj: VisitEvent | CtaClick) -> SafeString:
        return person_or_robot(obj.is_bot)

    @admin.display(description=_("ids"))
    def ids(self, obj: VisitEvent | CtaClick) -> SafeString:
        return folded_ids(obj.visitor_id, getattr(obj, "page_view_id", ""))

    @admin.display(description=_("visible for"))
    def visible_for(self, obj: VisitEvent | CtaClick) -> str:
        return seconds(getattr(obj, "engaged_ms", None))

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        # The event's page too: words and seconds rather than a boolean icon and raw milliseconds.
        shown = {"is_bot": "who", "engaged_ms": "visible_for"}
        return [shown.get(name, name) for name in super().get_fields(request, obj)]  # type: ignore[misc]


@admin.register(VisitEvent)
class VisitEventAdmin(ReaderColumns, EvidenceAdmin):
    list_display = ["received_at", "event", "prospect", "page", "visible_for", "who", "ids"]
    list_filter = [("received_at", admin.DateFieldListFilter), "event", "is_bot"]
    search_fields = ["=visitor_id", "=page_view_id"]
    ordering = ["-received_at"]


@admin.register(CtaClick)
class CtaClickAdmin(ReaderColumns, EvidenceAdmin):
    list_display = ["received_at", "cta_id", "prospect", "page", "who", "ids"]
    list_filter = [("received_at", admin.DateFieldListFilter), "cta_id", "is_bot"]
    search_fields = ["=visitor_id", "=cta_id"]
    ordering = ["-received_at"]


class MachineFilter(admin.SimpleListFilter):
    """Human or machine, from the one stored record of it: the machine reason."""

    title = _("opened by")
    parameter_name = "machine"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return [("no", _("Possibly a person")), ("yes", _("A machine (mail scanner, proxy)"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[EmailEvent]) -> QuerySet[EmailEvent]:
        if self.value() == "no":
            return queryset.filter(machine_reason="")
        if self.value() == "yes":
            return queryset.exclude(machine_reason="")
        return queryset


@admin.register(EmailEvent)
class EmailEventAdmin(EvidenceAdmin):
    list_display = ["occurred_at", "event", "prospect", "message_id", "source", "why_machine"]
    list_filter = [("occurred_at", admin.DateFieldListFilter), "event", "source", MachineFilter]
    search_fields = ["=message_id", "prospect__email", "=provider_event_id"]
    ordering = ["-occurred_at"]

    @admin.display(description=_("why machine"), ordering="machine_reason")
    def why_machine(self, obj: EmailEvent) -> str:
        return obj.why_machine or "—"


@admin.register(WebhookUnknownRecipients)
class WebhookUnknownRecipientsAdmin(admin.ModelAdmin):
    """Read-only: written by the webhooks only (tracking/webhooks/services.py)."""

    list_display = ["day", "provider", "count", "last_seen_at"]
    list_filter = ["provider"]
    ordering = ["-day", "provider"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(MessageOpenCount)
class MessageOpenCountAdmin(admin.ModelAdmin):
    """Read-only: the aggregate opens and clicks of messages sent to prospects without consent
    (tracking/services.py message_count). Nobody in it, by design."""

    list_display = ["message_id", "opens", "machine_opens", "clicks"]
    search_fields = ["message_id"]
    ordering = ["message_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Visitor)
class VisitorAdmin(admin.ModelAdmin):
    paginator = CappedCountPaginator
    show_full_result_count = False
    list_display = ["visitor_id", "prospect", "match_method", "identification", "matched_at", "email", "first_seen_at"]
    list_filter = ["match_method"]
    list_select_related = ["prospect"]
    search_fields = ["=visitor_id", "email", "prospect__email", "prospect__company"]
    autocomplete_fields = ["prospect"]
    date_hierarchy = "first_seen_at"
    fields = [
        "visitor_id",
        "prospect",
        "identification",
        "match_method",
        "match_evidence_sentence",
        "matched_at",
        "matched_by",
        "email",
        "first_seen_at",
    ]
    readonly_fields = [
        "visitor_id",
        "identification",
        "match_method",
        "match_evidence_sentence",
        "matched_at",
        "matched_by",
        "email",
        "first_seen_at",
    ]

    @admin.display(description=_("identification"))
    def identification(self, obj: Visitor) -> str:
        """verified (personal link, hand link) or unverified (email, domain, referrer, IP rule)."""
        return str(Identification(obj.identification).label) if obj.identification else "—"

    @admin.display(description=_("match evidence"))
    def match_evidence_sentence(self, obj: Visitor) -> str:
        return obj.match_evidence_sentence or "—"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Visitor, form: Any, change: bool) -> None:
        # Linking by hand goes through the same service as automatic matching, so the visitor's
        # earlier events are attributed and detection reconsiders them.
        prospect = obj.prospect
        if "prospect" in form.changed_data and prospect is not None:
            obj.prospect_id = form.initial.get("prospect")
            visitor_link_by_hand(visitor=obj, prospect=prospect, user=request.user)
            self.message_user(request, _("Visitor linked; detection will reconsider its events."))
        else:
            super().save_model(request, obj, form, change)


@admin.register(Meeting)
class MeetingAdmin(EvidenceAdmin):
    """Read-only but for its outcome: a meeting is the booking tool's word (tracking/webhooks/meetings.py)
    or the call form's ("RDV pris" with a date); whether it was held, a no-show or cancelled can be
    written by hand (actions here, buttons on the prospect's page)."""

    actions = ["mark_held", "mark_no_show", "mark_cancelled"]

    def _mark(self, request: HttpRequest, queryset: "QuerySet[Meeting]", status: str) -> None:
        changed = sum(meeting_mark(meeting=meeting, status=status) for meeting in queryset)
        label = Meeting.Status(status).label
        self.message_user(request, _("%(count)d meeting(s) marked: %(status)s.") % {"count": changed, "status": label})

    @admin.action(description=_("Mark held"), permissions=["view"])
    def mark_held(self, request: HttpRequest, queryset: "QuerySet[Meeting]") -> None:
        self._mark(request, queryset, Meeting.Status.HELD)

    @admin.action(description=_("Mark no-show"), permissions=["view"])
    def mark_no_show(self, request: HttpRequest, queryset: "QuerySet[Meeting]") -> None:
        self._mark(request, queryset, Meeting.Status.NO_SHOW)

    @admin.action(description=_("Mark cancelled"), permissions=["view"])
    def mark_cancelled(self, request: HttpRequest, queryset: "QuerySet[Meeting]") -> None:
        self._mark(request, queryset, Meeting.Status.CANCELLED)

    list_display = ["starts_at", "prospect", "tool", "status", "identification_display", "booked_at"]
    list_filter = ["status", "tool", ("starts_at", admin.DateFieldListFilter), "match_method"]
    search_fields = ["prospect__name", "prospect__email", "prospect__company", "invitee_email"]
    ordering = ["-starts_at"]
    readonly_fields = (
        "prospect",
        "tool",
        "external_id",
        "starts_at",
        "ends_at",
        "status",
        "invitee_email",
        "match_method",
        "identification_display",
        "booked_at",
        "updated_at",
    )
    fields = readonly_fields

    @admin.display(description=_("identification"), ordering="match_method")
    def identification_display(self, obj: Meeting) -> str:
        """verified (the ak the booking link carried) or unverified (the email typed into the form)."""
        return str(Identification(obj.identification).label) if obj.identification else "—"


# The replies' admin lives beside them (tracking/replies/).
import tracking.replies.admin  # noqa: E402, F401
