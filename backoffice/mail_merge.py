"""The "Export email links (mail merge)" action on selected prospects: a small form (message id, link
destination, format), then the same file as `manage.py export_email_links`, for the selection only.

It lives in the back office, which may read every app: the prospects app cannot know about tracking's
tokens."""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from core.spreadsheets import DEFAULT_CSV_DIALECT
from prospects.models import Prospect
from tracking.exports import CONTENT_TYPES, FORMATS, email_link_rows, exportable_prospects, render
from tracking.tokens import destination_problem


class MailMergeForm(forms.Form):
    message_id = forms.CharField(
        label=_("Message id"),
        max_length=200,
        help_text=_("Names this email in the events and the re-open signal, e.g. relance-2026-11."),
    )
    url = forms.URLField(
        label=_("Tracked link destination"),
        required=False,
        assume_scheme="https",
        help_text=_("Where the tracked link leads (http or https). Empty: no link column."),
    )
    file_format = forms.ChoiceField(
        label=_("Format"),
        choices=[
            ("csv", _("CSV for a French Excel (UTF-8, “;”)")),
            ("csv-standard", _("CSV, comma-separated (Google Sheets, LibreOffice, CRM)")),
            *((f, f) for f in FORMATS if f != "csv"),
        ],
        initial="csv",
    )

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        problem = destination_problem(url) if url else None  # URLField also lets ftp:// through
        if problem:
            raise forms.ValidationError(problem)
        return url


# "change": a link made here is a signed link on our domain that hands out the prospect's `ak`;
# viewing prospects (the Caller role) is not enough to mint one.
@admin.action(description=_("Export email links (mail merge)"), permissions=["change"])
def export_email_links(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Prospect]
) -> HttpResponse | None:
    form = MailMergeForm(request.POST if "apply" in request.POST else None)
    exportable = exportable_prospects(queryset)
    if form.is_bound and form.is_valid():
        message_id = form.cleaned_data["message_id"]
        file_format, _dash, shape = form.cleaned_data["file_format"].partition("-")
        rows = email_link_rows(exportable, message_id=message_id, url=form.cleaned_data["url"] or None)
        content, _count = render(rows, file_format, shape or DEFAULT_CSV_DIALECT)
        response = HttpResponse(content, content_type=CONTENT_TYPES[file_format])
        filename = f"email-links-{slugify(message_id) or 'export'}.{file_format}"
        response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename) or ""
        return response
    if not form.is_bound:
        form = MailMergeForm(
            initial={"message_id": f"mail-merge-{timezone.localdate():%Y%m%d}", "url": settings.LANDING_PAGE_URL}
        )
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        "title": _("Export email links (mail merge)"),
        "form": form,
        "selected": queryset.values_list("pk", flat=True),
        "count": exportable.count(),
        "left_out": queryset.count() - exportable.count(),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/backoffice/export_email_links.html", context)
