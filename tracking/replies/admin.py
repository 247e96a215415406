"""The replies in the admin: read-only evidence but for their kind, which staff may correct by hand when
the sorter was wrong (tracking/replies/services.py `reply_correct`; the ledger counts corrections)."""

from django.contrib import admin
from django.db.models import Model
from django.forms import ModelForm
from django.http import HttpRequest

from core.admin import CappedCountPaginator
from tracking.replies.models import InboundReply, MailboxCursor
from tracking.replies.services import reply_correct


@admin.register(InboundReply)
class InboundReplyAdmin(admin.ModelAdmin):
    list_display = ["received_at", "kind", "reason", "prospect", "sender", "excerpt", "identification", "source"]
    list_filter = [("received_at", admin.DateFieldListFilter), "kind", "sorted_kind", "source", "identification"]
    search_fields = ["prospect__email", "sender", "subject"]
    ordering = ["-received_at"]
    list_select_related = ["prospect"]
    paginator = CappedCountPaginator
    show_full_result_count = False
    fields = [
        "kind",
        "reason",
        "sorted_kind",
        "corrected_by",
        "corrected_at",
        "prospect",
        "sender",
        "subject",
        "excerpt",
        "match_method",
        "identification",
        "back_on",
        "undeliverable",
        "source",
        "sent_at",
        "received_at",
        "key",
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        return [str(name) for name in self.fields or [] if name != "kind"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # replies come from the mailbox and the webhooks, never typed in

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False  # evidence, like the events: a wrong sort is corrected, not erased

    def save_model(self, request: HttpRequest, obj: InboundReply, form: ModelForm, change: bool) -> None:
        kind = form.cleaned_data["kind"]
        fresh = InboundReply.objects.get(pk=obj.pk)
        reply_correct(reply=fresh, kind=kind, user=request.user)


@admin.register(MailboxCursor)
class MailboxCursorAdmin(admin.ModelAdmin):
    list_display = ["mailbox", "last_uid", "uidvalidity", "polled_at", "error"]
    readonly_fields = ["mailbox", "uidvalidity", "last_uid", "polled_at", "error"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
