from django.conf import settings
from django.urls import path

from tracking import consent_views, views
from tracking.replies.views import INBOUND, inbound_email
from tracking.webhooks.views import BOOKING_TOOLS, PROVIDERS, booking_webhook, email_webhook

app_name = "tracking"

# The snippet's event paths (TRACKING_EVENTS_PATH, default /api/page): the configured prefix, and the
# default one too, which /static/tracker.js posts to. Neutral names: no ad blocker's list targets them.
DEFAULT_EVENTS_PATH = "/api/page"
EVENTS_PATH = settings.TRACKING_EVENTS_PATH.strip("/")
OLDER_EVENT_PATHS = [DEFAULT_EVENTS_PATH.strip("/")] if EVENTS_PATH != DEFAULT_EVENTS_PATH.strip("/") else []

urlpatterns = [
    path(settings.TRACKING_SCRIPT_PATH.lstrip("/"), views.tracker_script, name="script"),
    path(f"{EVENTS_PATH}/view", views.track_visit, name="visit-page"),
    path(f"{EVENTS_PATH}/click", views.track_cta, name="cta-page"),
    path(f"{EVENTS_PATH}/email", views.track_identify, name="identify-page"),
    *(
        route
        for prefix in OLDER_EVENT_PATHS
        for route in (
            path(f"{prefix}/view", views.track_visit),
            path(f"{prefix}/click", views.track_cta),
            path(f"{prefix}/email", views.track_identify),
        )
    ),
    # Contract §1's paths, kept for the snippets already pasted into pages.
    path("api/track/visit", views.track_visit, name="visit"),
    path("api/track_visitor_audit_gratuit", views.track_visit, name="visit-legacy"),
    path("api/track/cta", views.track_cta, name="cta"),
    path("api/track_cta_click", views.track_cta, name="cta-legacy"),
    path("api/track/identify", views.track_identify, name="identify"),
    path("api/track/email", views.track_email, name="email"),
    path("t/o/<str:token>.gif", views.open_pixel, name="pixel"),
    path("t/c/<str:token>", views.tracked_link, name="link"),
    *(path(f"api/webhooks/{name}", email_webhook, {"provider": name}, name=f"webhook-{name}") for name in PROVIDERS),
    *(path(f"api/webhooks/{name}", booking_webhook, {"tool": name}, name=f"webhook-{name}") for name in BOOKING_TOOLS),
    # Outside /t/ and /api/: a page people read, with the full middleware (CSRF, no framing).
    path("consentement/<str:token>", consent_views.consent_page, name="consent"),
    *(path(f"api/inbound/{name}", inbound_email, {"provider": name}, name=f"inbound-{name}") for name in INBOUND),
    # Mailgun posts the raw message (body-mime) only to a route URL that ends in "mime".
    path("api/inbound/mailgun/mime", inbound_email, {"provider": "mailgun"}, name="inbound-mailgun-mime"),
    path("audit-gratuit-monitoring.html", views.landing_demo, name="landing-demo"),
]
