from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = _("Alerts")

    def ready(self) -> None:
        from alerts import receivers
        from tracking.announcements import event_stored, page_view_event_stored

        # The seam: tracking announces events that may complete a signal; detection listens here.
        event_stored.connect(receivers.detect_now, dispatch_uid="alerts.detect_now")
        page_view_event_stored.connect(receivers.detect_when_dwell_crossed, dispatch_uid="alerts.dwell_crossed")
