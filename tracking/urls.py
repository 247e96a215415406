from django.urls import path

from tracking import views
from tracking.replies.views import INBOUND, inbound_email
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
    *(path(f"api/inbound/{name}", inbound_email, {"provider": name}, name=f"inbound-{name}") for name in INBOUND),
    # Mailgun posts the raw message (body-mime) only to a route URL that ends in "mime".
    path("api/inbound/mailgun/mime", inbound_email, {"provider": "mailgun"}, name="inbound-mailgun-mime"),
    path("audit-gratuit-monitoring.html", views.landing_demo, name="landing-demo"),
]
