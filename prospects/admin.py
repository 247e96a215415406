from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from core.display import phone_display
from prospects.models import Prospect
from prospects.services import (
    ImportFileError,
    prospect_rotate_identity_token,
    prospects_import,
    prospects_set_status,
)


class ProspectImportForm(forms.Form):
    file = forms.FileField(
        label=_("JSON, CSV or Excel (.xlsx) file"),
        allow_empty_file=True,  # an empty file gets the import's own sentence, the same as the command's
        widget=forms.ClearableFileInput(attrs={"accept": ".json,.csv,.tsv,.txt,.xlsx"}),
    )
    dry_run = forms.BooleanField(label=_("Dry run (check only, save nothing)"), required=False)


@admin.register(Prospect)
class ProspectAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "title", "email", "phone_link", "status", "created_at"]
    list_filter = ["status", "sector"]
    search_fields = ["name", "email", "company", "company_domains"]
    date_hierarchy = "created_at"
    readonly_fields = ["identity_token", "company_domains", "left_out_domains", "created_at", "updated_at"]
    actions = ["mark_contacted", "mark_do_not_contact", "rotate_identity_token"]
    change_list_template = "admin/prospects/prospect/change_list.html"
    fieldsets = [
        (None, {"fields": ["name", "email", "company", "title", "sector", "phone", "status"]}),
        (_("Sales context"), {"fields": ["pain_point", "call_script"]}),
        (
            _("Matching"),
            {
                "fields": [
                    "website",
                    "extra_domains",
                    "company_domains",
                    "left_out_domains",
                    "ip_ranges",
                ]
            },
        ),
        # The personal-link token is a raw value: staff may need it, a founder reading the page does not.
        (_("Technical details"), {"fields": ["identity_token"], "classes": ["collapse"]}),
        (_("History"), {"fields": ["created_at", "updated_at"]}),
    ]

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "phone" and field is not None:
            # People type a number as they read it; it is stored in the international format.
            field.label = _("Phone")
            field.help_text = _("As you would dial it (01 99 00 12 34 or +44 20 …); stored in international format.")
        return field

    @admin.display(description=_("domains left out"))
    def left_out_domains(self, obj: Prospect) -> str:
        """Why a domain of the email or website matches nobody (free mail, a shared platform)."""
        left_out = obj.domains_left_out() if obj.pk else []
        if not left_out:
            return "—"
        return format_html_join(mark_safe("<br>"), "{} — {}", left_out)

    @admin.display(description=_("phone"), ordering="phone")
    def phone_link(self, obj: Prospect) -> str:
        return format_html('<a href="tel:{}">{}</a>', obj.phone, phone_display(obj.phone)) if obj.phone else "—"

    @admin.action(description=_("Mark as contacted"), permissions=["change"])
    def mark_contacted(self, request: HttpRequest, queryset: QuerySet[Prospect]) -> None:
        count = prospects_set_status(prospect_ids=list(queryset.values_list("pk", flat=True)), status="contacted")
        self.message_user(request, _("%(count)d prospect(s) marked as contacted.") % {"count": count})

    @admin.action(description=_("Mark as do not contact"), permissions=["change"])
    def mark_do_not_contact(self, request: HttpRequest, queryset: QuerySet[Prospect]) -> None:
        count = prospects_set_status(prospect_ids=list(queryset.values_list("pk", flat=True)), status="do_not_contact")
        self.message_user(request, _("%(count)d prospect(s) marked as do not contact.") % {"count": count})

    @admin.action(description=_("Replace the personal link token (ak)"), permissions=["change"])
    def rotate_identity_token(self, request: HttpRequest, queryset: QuerySet[Prospect]) -> None:
        """For a personal link that leaked or was forwarded: the old links then count as unmatched visits."""
        for prospect in queryset:
            prospect_rotate_identity_token(prospect=prospect, by=request.user)
        self.message_user(
            request,
            _(
                "%(count)d prospect(s) got a new personal link token: links already sent now count as "
                "unmatched visits; send the new links (email_links)."
            )
            % {"count": len(queryset)},
        )

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path("import/", self.admin_site.admin_view(self.import_view), name="prospects_prospect_import"),
        ]
        return custom + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request) or not self.has_change_permission(request):
            messages.error(request, _("You may not import prospects."))
            return redirect("admin:prospects_prospect_changelist")
        form = ProspectImportForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                report = prospects_import(
                    content=upload.read(), filename=upload.name, dry_run=form.cleaned_data["dry_run"]
                )
            except ImportFileError as exc:
                form.add_error("file", str(exc))
            else:
                level = messages.WARNING if report.errors else messages.SUCCESS
                messages.add_message(request, level, report.summary())
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "report": report,
            "title": _("Import prospects"),
        }
        return render(request, "admin/prospects/prospect/import.html", context)
