from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = _("Alerts")

    def ready(self) -> None:
        from alerts.schedules import ensure_schedules_after_migrate

        # Schedules live in one place (alerts/schedules.py) and are (re)created after every migrate.
        post_migrate.connect(ensure_schedules_after_migrate, sender=self)
