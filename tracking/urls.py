from django.urls import path

from tracking import consent_views, views
from tracking.webhooks.views import BOOKING_TOOLS, PROVIDERS, booking_webhook, email_webhook

app_name = "tracking"

urlpatterns = [
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
    path("audit-gratuit-monitoring.html", views.landing_demo, name="landing-demo"),
]
