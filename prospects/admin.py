from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import content_disposition_header
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from core.display import phone_display
from core.spreadsheets import write_safe_csv
from prospects.consent import NOTICE_VERSION, PROOF_COLUMNS, consent_proof_rows, prospect_consent_record
from prospects.models import ConsentSource, ConsentState, Prospect
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


class ConsentChangeForm(forms.Form):
    """A change staff record by hand (a phone call, a letter, an email answered): the note says how."""

    state = forms.ChoiceField(label=_("Tracking consent"), choices=ConsentState.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("How the prospect said it, e.g. “asked by phone on 3 December not to be tracked”."),
    )


HISTORY_COLUMNS = (_("when"), _("consent"), _("how"), _("network"), _("notice version"), _("by"), _("note"))


def consent_proof_response(prospects: QuerySet[Prospect], filename: str) -> HttpResponse:
    """The recorded changes as CSV: what a founder hands to the CNIL."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename) or ""
    write_safe_csv(response, PROOF_COLUMNS, consent_proof_rows(prospects))  # type: ignore[arg-type]
    return response


@admin.register(Prospect)
class ProspectAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "title", "email", "phone_link", "status", "created_at"]
    list_filter = ["status", "tracking_consent", "sector"]
    search_fields = ["name", "email", "company", "company_domains"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "identity_token",
        "company_domains",
        "left_out_domains",
        "created_at",
        "updated_at",
        # Changed only through prospect_consent_record, which keeps its proof: "Record a consent change".
        "tracking_consent",
        "consent_history",
    ]
    actions = ["mark_contacted", "mark_do_not_contact", "rotate_identity_token", "export_consent_proof"]
    change_list_template = "admin/prospects/prospect/change_list.html"
    fieldsets = [
        (None, {"fields": ["name", "email", "company", "title", "sector", "phone", "status"]}),
        (_("Tracking consent"), {"fields": ["tracking_consent", "consent_history"]}),
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

    @admin.display(description=_("consent history"))
    def consent_history(self, obj: Prospect) -> SafeString:
        """Every recorded change, oldest first, and where to record or export one."""
        rows = list(consent_proof_rows([obj])) if obj.pk else []
        links = format_html(
            '<p><a class="button" href="{}">{}</a> <a href="{}">{}</a></p>',
            reverse("admin:prospects_prospect_consent", args=[obj.pk]) if obj.pk else "",
            _("Record a consent change"),
            reverse("admin:prospects_prospect_consent_export", args=[obj.pk]) if obj.pk else "",
            _("Export the proof (CSV)"),
        )
        if not rows:
            return format_html("<p>{}</p>{}", _("No change recorded: the prospect was never asked."), links)
        header = format_html_join(
            "",
            "<th>{}</th>",
            [
                (label,)
                for label in (_("when"), _("consent"), _("how"), _("network"), _("notice version"), _("by"), _("note"))
            ],
        )
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            [
                (
                    change.changed_at.astimezone(timezone.get_current_timezone()).strftime("%d/%m/%Y %H:%M"),
                    change.get_state_display(),
                    f"{change.get_source_display()} {change.detail}".strip(),
                    change.network or "—",
                    change.notice_version or "—",
                    change.changed_by.get_username() if change.changed_by else "—",
                    change.note or "",
                )
                for change in obj.consent_changes.select_related("changed_by")
            ],
        )
        return format_html('<table id="consent-history"><tr>{}</tr>{}</table>{}', header, body, links)

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

    @admin.action(description=_("Export the consent proof (CSV)"), permissions=["view"])
    def export_consent_proof(self, request: HttpRequest, queryset: QuerySet[Prospect]) -> HttpResponse:
        return consent_proof_response(queryset, f"consent-proof-{timezone.localdate():%Y%m%d}.csv")

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path("import/", self.admin_site.admin_view(self.import_view), name="prospects_prospect_import"),
            path(
                "<path:object_id>/consent/",
                self.admin_site.admin_view(self.consent_view),
                name="prospects_prospect_consent",
            ),
            path(
                "<path:object_id>/consent/export/",
                self.admin_site.admin_view(self.consent_export_view),
                name="prospects_prospect_consent_export",
            ),
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

    def consent_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Staff record a change by hand, with a note; needs the right to change prospects (a Caller
        only views them)."""
        prospect = self.get_object(request, object_id)
        if prospect is None or not self.has_change_permission(request, prospect):
            messages.error(request, _("You may not change this prospect's consent."))
            return redirect("admin:prospects_prospect_changelist")
        form = ConsentChangeForm(request.POST or None, initial={"state": prospect.tracking_consent})
        if request.method == "POST" and form.is_valid():
            prospect_consent_record(
                prospect=prospect,
                state=form.cleaned_data["state"],
                source=ConsentSource.STAFF,
                note=form.cleaned_data["note"],
                by=request.user,
                notice_version=NOTICE_VERSION,
            )
            messages.success(
                request,
                _("Tracking consent of %(prospect)s is now “%(state)s”, effective at once.")
                % {"prospect": prospect, "state": prospect.get_tracking_consent_display()},
            )
            return redirect("admin:prospects_prospect_change", prospect.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": prospect,
            "form": form,
            "title": _("Record a consent change"),
        }
        return render(request, "admin/prospects/prospect/consent.html", context)

    def consent_export_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        prospect = self.get_object(request, object_id)
        if prospect is None or not self.has_view_permission(request, prospect):
            messages.error(request, _("You may not see this prospect."))
            return redirect("admin:prospects_prospect_changelist")
        prospects = Prospect.objects.filter(pk=prospect.pk)
        return consent_proof_response(prospects, f"consent-proof-{prospect.pk}.csv")
