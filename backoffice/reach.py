"""The tracker's reach in the back office (tracking/reach.py): the dashboard's figure ("portée du
traceur : 47 / 50 visites") and, on the hot-leads page, the prospects whose click on a tracked link no
page view followed — a blocked tracker; call anyway. Self-contained: a dashboard panel appended to
PANELS and one include on the hot-leads page."""

from datetime import datetime, timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from backoffice.dashboard import PANELS, Panel
from backoffice.hot_leads import HOT_WINDOW
from tracking.reach import tracker_reach, unfollowed_clicks

REACH_PERIOD = timedelta(days=30)


def reach_context(request: HttpRequest, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    return {"tracker_reach": tracker_reach(since=now - REACH_PERIOD, now=now), "reach_days": REACH_PERIOD.days}


def blocked_tracker_context(now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    return {"unfollowed_clicks": unfollowed_clicks(since=now - HOT_WINDOW, now=now)}


PANELS.append(Panel("admin/backoffice/reach/dashboard.html", reach_context, "alerts.view_alert"))
