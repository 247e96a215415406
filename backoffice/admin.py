"""The prospect's admin page, extended with what the other apps know about the prospect: its recent
events, alerts, visitors and the links to put in the next email. The prospects app registers the
plain admin; the back office, which may read every app, re-registers it with this activity."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from backoffice.mail_merge import export_email_links
from backoffice.models import CallOpener
from backoffice.prospects_export import CONTENT_TYPES, prospects_file
from backoffice.timeline import prospect_email_links, prospect_recent_activity, prospect_timeline
from core.admin import may_read_identity_tokens
from prospects.admin import ProspectAdmin
from prospects.models import Prospect
from tracking.privacy import prospect_forget

admin.site.unregister(Prospect)


@admin.register(Prospect)
class ProspectWithActivityAdmin(ProspectAdmin):
    change_form_template = "admin/prospects/prospect/change_form.html"
    list_display = [*ProspectAdmin.list_display[:-1], "timeline_link", ProspectAdmin.list_display[-1]]
    actions = [*ProspectAdmin.actions, export_email_links, "export_xlsx", "export_csv"]
    # A prospect's "absolute URL" is this very page: "View on site" would only reload it.
    view_on_site = False

    # Deleting a prospect forgets it: its email and ak leave the events and visitors too (docs/privacy.md).
    def delete_model(self, request: HttpRequest, obj: Prospect) -> None:
        prospect_forget(prospect=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Prospect]) -> None:
        for prospect in queryset:
            prospect_forget(prospect=prospect)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[Any, Any, set[str], Any]:
        """The prospect's evidence (email events, alerts, calls) cannot be deleted one by one, even by
        a superuser; deleting the prospect is an erasure and takes it along (the page lists it)."""
        to_delete, model_count, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return to_delete, model_count, set(), protected

    def _export(self, queryset: QuerySet[Prospect], file_format: str) -> HttpResponse:
        content, _count = prospects_file(queryset, file_format)
        response = HttpResponse(content, content_type=CONTENT_TYPES[file_format])
        filename = f"prospects-{timezone.localdate():%Y-%m-%d}.{file_format}"
        response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename) or ""
        return response

    # The whole list out (phones, emails, pipeline) is the founder's, as editing it is: not a Caller's.
    @admin.action(
        description=_("Export the list (Excel .xlsx): status, last signal, calls, meetings, call-back"),
        permissions=["change"],
    )
    def export_xlsx(self, request: HttpRequest, queryset: QuerySet[Prospect]) -> HttpResponse:
        return self._export(queryset, "xlsx")

    @admin.action(description=_("Export the list (CSV for a French Excel)"), permissions=["change"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Prospect]) -> HttpResponse:
        return self._export(queryset, "csv")

    @admin.display(description=_("activity timeline"))
    def timeline_link(self, obj: Prospect) -> SafeString:
        return format_html('<a href="{}">{}</a>', reverse("backoffice-timeline", args=[obj.pk]), _("Activity timeline"))

    def get_fieldsets(self, request: HttpRequest, obj: Prospect | None = None) -> Any:
        """The identity token's own fieldset, only for who may read it (core/admin.py)."""
        fieldsets = super().get_fieldsets(request, obj)
        if may_read_identity_tokens(request):
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "identity_token"]})
            for name, options in fieldsets
            if [f for f in options["fields"] if f != "identity_token"]
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        prospect = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if prospect is not None:
            extra_context.update(prospect_recent_activity(prospect))
            if may_read_identity_tokens(request):
                extra_context.update(prospect_email_links(prospect))
            visits = [entry for entry in prospect_timeline(prospect, limit=20) if entry.kind == "visit"]
            extra_context["recent_page_views"] = visits[:20]
        return super().change_view(request, object_id, form_url, extra_context=extra_context)


@admin.register(CallOpener)
class CallOpenerAdmin(admin.ModelAdmin):
    """One row per signal, created by a migration: staff reword them, nobody adds or removes one."""

    list_display = ["signal", "text", "updated_at"]
    list_display_links = ["signal"]
    fields = ["signal", "text"]
    readonly_fields = ["signal"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: CallOpener | None = None) -> bool:
        return False
