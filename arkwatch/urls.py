from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from arkwatch.health import healthz
from backoffice.views import backoffice_urls, lead_short_link

urlpatterns = [
    # The back-office pages live under the admin's prefix and behind its login.
    path(settings.ADMIN_URL + "backoffice/", include(backoffice_urls())),
    path(settings.ADMIN_URL, admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("l/<int:alert_id>", lead_short_link, name="lead-short-link"),
    path("", include("tracking.urls")),
]
