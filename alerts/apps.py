from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = _("Alerts")

    def ready(self) -> None:
        from alerts.roles import ensure_roles_after_migrate
        from alerts.schedules import ensure_schedules_after_migrate

        # Schedules (alerts/schedules.py) and the Caller role (alerts/roles.py) are (re)created after
        # every migrate, once the permissions exist.
        post_migrate.connect(ensure_schedules_after_migrate, sender=self)
        post_migrate.connect(ensure_roles_after_migrate, sender=self)
