"""What the admin index shows above the lists of tables: the leads to call now, then panels.

A panel is a template (rendered with the dashboard's context) and a function that adds what it needs
to that context. Another part of the back office adds its own by appending to PANELS, e.g.
`PANELS.append(Panel("admin/backoffice/dashboard/meetings.html", meetings_context))`; the dashboard
template includes each in order, after the leads."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from backoffice.charts import charts_context
from backoffice.consent_counts import consent_context
from backoffice.hot_leads import TO_CALL, TO_REVIEW, hot_leads


@dataclass(frozen=True)
class Panel:
    template: str
    context: Callable[[HttpRequest], dict[str, Any]] = field(default=lambda request: {})
    permission: str = ""  # shown only to users holding it ("" = every staff member)


def leads_context(request: HttpRequest) -> dict[str, Any]:
    if not request.user.has_perm("alerts.view_alert"):
        return {}
    states = [lead.state for lead in hot_leads()]
    return {"leads_to_call": states.count(TO_CALL), "leads_to_review": states.count(TO_REVIEW)}


PANELS: list[Panel] = [
    Panel("admin/backoffice/dashboard/leads.html", leads_context, "alerts.view_alert"),
    Panel("admin/backoffice/dashboard/charts.html", charts_context, "alerts.view_alert"),
    Panel("admin/backoffice/dashboard/pages.html"),
    Panel("admin/backoffice/dashboard/consent.html", consent_context, "prospects.view_prospect"),
]


def dashboard_context(request: HttpRequest) -> dict[str, Any]:
    panels = [p for p in PANELS if not p.permission or request.user.has_perm(p.permission)]
    context: dict[str, Any] = {"dashboard_panels": [p.template for p in panels]}
    for panel in panels:
        context.update(panel.context(request))
    return context
