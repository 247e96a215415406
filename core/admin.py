"""Admin pieces shared by the apps: changelists that stay fast at a million rows."""

from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import HttpRequest
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

COUNT_CAP = 10_000

# Who may read a prospect's identity token (`ak`) and the links that carry it: those who may change
# prospects. Holding it is what makes a signal "verified", and minting a link with it needs the same
# right (backoffice/mail_merge.py); a Caller, who views prospects, reads neither.
IDENTITY_TOKEN_PERMISSION = "prospects.change_prospect"


def may_read_identity_tokens(request: HttpRequest) -> bool:
    return bool(request.user.has_perm(IDENTITY_TOKEN_PERMISSION))


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP rows: SELECT COUNT(*) FROM (… LIMIT n) instead of a full-table count."""

    @cached_property
    def count(self) -> int:
        # Changelists always paginate a QuerySet: slicing keeps it a query, counted in SQL.
        return self.object_list[: COUNT_CAP + 1].count()  # type: ignore[attr-defined]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the product writes and staff only read (deliveries, runs, claims, replies)."""

    paginator = CappedCountPaginator
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class EvidenceAdmin(admin.ModelAdmin):
    """Events are evidence: listed and searchable, never added, edited or deleted by hand.

    No date_hierarchy here: its year/month links come from SELECT DISTINCT over the whole table, a full
    scan on every page (docs/benchmarks.md, "Figures that used to live in code comments"). A date
    filter (today, 7 days, this month…) uses the time index instead.
    """

    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    list_select_related = ["prospect"]
    # An event's `ak` is its prospect's identity token: shown only to who may read those.
    identity_token_fields: tuple[str, ...] = ("ak",)

    def get_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        fields = super().get_fields(request, obj)
        if may_read_identity_tokens(request):
            return fields
        return [name for name in fields if name not in self.identity_token_fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


def folded_ids(*values: str) -> SafeString:
    """Raw ids (a visitor's, a page view's) folded away: a person reads the row, a developer opens it."""
    shown = [value for value in values if value]
    if not shown:
        return format_html("{}", "—")
    return format_html(
        '<details class="technical-detail"><summary>{}</summary>{}</details>',
        _("ids"),
        format_html_join(" ", "<code>{}</code>", ((value,) for value in shown)),
    )


def person_or_robot(is_bot: bool) -> SafeString:
    """ "humain" or "robot" in words, read at a glance: never the admin's red cross for a person."""
    if is_bot:
        return format_html('<span class="is-robot">{}</span>', _("robot"))
    return format_html('<span class="is-person">{}</span>', _("human"))


def seconds(milliseconds: int | None) -> str:
    """A browser's milliseconds as a person reads a duration: "164 s"."""
    return "—" if milliseconds is None else f"{round(milliseconds / 1000)} s"
