from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = _("Alerts")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from alerts import receivers
        from prospects.models import ConsentChange
        from tracking.announcements import event_stored, page_view_event_stored

        # The seam: tracking announces events that may complete a signal; detection listens here.
        event_stored.connect(receivers.detect_now, dispatch_uid="alerts.detect_now")
        page_view_event_stored.connect(receivers.detect_when_dwell_crossed, dispatch_uid="alerts.dwell_crossed")
        # A refusal of tracking stops the alerts still waiting to be told (prospects cannot know alerts).
        post_save.connect(receivers.stop_alerts_on_refusal, sender=ConsentChange, dispatch_uid="alerts.consent_refused")
