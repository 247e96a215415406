from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    name = "backoffice"
    verbose_name = _("Back office")

    def ready(self) -> None:
        from backoffice.roles import ensure_roles_after_migrate

        # The Caller role is (re)created after every migrate, once the permissions it grants exist:
        # post_migrate is only sent for apps with models, and alerts is the last of those it reads.
        post_migrate.connect(ensure_roles_after_migrate, sender=apps.get_app_config("alerts"))
