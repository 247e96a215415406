"""The admin site, written for the people who use it: its index is a dashboard (leads to call first),
the technical tables (task queue, accounts, delivery bookkeeping) sit apart in a section only
superusers see, and the navigation sidebar is collapsed until someone opens it, so changelists get the
width of the screen.

Installed as the default site by backoffice.apps.ArkWatchAdminConfig (INSTALLED_APPS), so every
`admin.site.register` of the apps lands here unchanged."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from backoffice.dashboard import dashboard_context

# Models a founder or a caller has no use for day to day: kept, but out of the way.
TECHNICAL_APPS = {"auth", "django_q"}
TECHNICAL_MODELS = {
    ("alerts", "AlertDelivery"),
    ("alerts", "SignalCooldown"),
    ("alerts", "DetectionRun"),
    ("tracking", "WebhookUnknownRecipients"),
}


def is_technical(app_label: str, object_name: str) -> bool:
    return app_label in TECHNICAL_APPS or (app_label, object_name) in TECHNICAL_MODELS


def split_app_list(app_list: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The business apps (their technical models removed) and the technical models, as one list."""
    business, technical = [], []
    for app in app_list:
        kept = [m for m in app["models"] if not is_technical(app["app_label"], m["object_name"])]
        technical += [
            {**m, "app_name": app["name"]} for m in app["models"] if is_technical(app["app_label"], m["object_name"])
        ]
        if kept:
            business.append({**app, "models": kept})
    return business, technical


class ArkWatchAdminSite(admin.AdminSite):
    site_header = _("ArkWatch")
    site_title = _("ArkWatch")
    index_title = _("Dashboard")
    index_template = "admin/backoffice/dashboard.html"
    # The admin's "View site" would open "/", which is nothing here (the landing page lives elsewhere,
    # and opening the demo page would record staff as a visitor).
    site_url = None

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        business, technical = split_app_list(self.get_app_list(request))
        context = {
            **dashboard_context(request),
            "business_apps": business,
            # Callers hold a few of these permissions (delivery receipts) but have no use for the section.
            "technical_models": technical if request.user.is_superuser else [],
            **(extra_context or {}),
        }
        return super().index(request, context)
