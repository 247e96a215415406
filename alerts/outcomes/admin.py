"""Admin pages of what came of the alerts: calls and the SMS replies read."""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from alerts.outcomes.models import Call, SmsReply
from core.admin import ReadOnlyAdmin
from core.display import phone_display


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ["called_at", "prospect", "outcome", "called_by", "note"]
    list_filter = ["outcome"]
    list_select_related = ["prospect", "called_by"]
    search_fields = ["prospect__name", "prospect__email", "prospect__company", "note"]
    date_hierarchy = "called_at"
    readonly_fields = ("prospect", "called_by", "called_at", "outcome")
    fields = (*readonly_fields, "note")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # calls are recorded from the hot-leads page or the timeline


@admin.register(SmsReply)
class SmsReplyAdmin(ReadOnlyAdmin):
    """Every reply read from the phone, and what it did: the call it recorded on a lead, or why it
    changed nothing (not a code, or the last SMS to that number was a digest, a summary, a held notice, a
    test SMS, or too old: alerts/outcomes/replies.py)."""

    list_display = ["received_at", "sender_display", "text", "result"]
    list_filter = ["ignored"]
    list_select_related = ["call__prospect", "last_sms__notice"]
    ordering = ["-received_at"]

    @admin.display(description=_("from"), ordering="sender")
    def sender_display(self, reply: SmsReply) -> str:
        return phone_display(reply.sender)

    @admin.display(description=_("result"))
    def result(self, reply: SmsReply) -> str:
        if reply.call is not None:
            return _("Recorded: %(outcome)s for %(lead)s") % {
                "outcome": reply.call.get_outcome_display(),
                "lead": reply.call.prospect,
            }
        if not reply.ignored:
            return "—"  # recorded before replies said why
        why = _("Ignored: %(reason)s") % {"reason": reply.get_ignored_display()}
        notice = reply.last_sms.notice if reply.last_sms else None
        return f"{why} ({notice.get_kind_display()})" if notice else why
