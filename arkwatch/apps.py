from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class ArkwatchConfig(AppConfig):
    """The composition layer: settings, URLs, /healthz, and the schedules of every app."""

    name = "arkwatch"
    verbose_name = "ArkWatch"

    def ready(self) -> None:
        from arkwatch import sqlite
        from arkwatch.schedules import ensure_schedules_after_migrate

        sqlite.connect()  # WAL once per database file (arkwatch/sqlite.py)

        # Schedules (arkwatch/schedules.py) are (re)created after every migrate. post_migrate is only
        # sent for apps with models: listen to django_q's, the app whose table holds them.
        post_migrate.connect(ensure_schedules_after_migrate, sender=apps.get_app_config("django_q"))
