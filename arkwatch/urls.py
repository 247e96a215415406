from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from alerts import views as alert_views
from alerts.backoffice_views import backoffice_urls

urlpatterns = [
    # The back-office pages live under the admin's prefix and behind its login.
    path(settings.ADMIN_URL + "backoffice/", include(backoffice_urls())),
    path(settings.ADMIN_URL, admin.site.urls),
    path("healthz", alert_views.healthz, name="healthz"),
    path("l/<int:alert_id>", alert_views.lead_short_link, name="lead-short-link"),
    path("", include("tracking.urls")),
]
