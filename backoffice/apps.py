from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    name = "backoffice"
    verbose_name = _("Back office")

    def ready(self) -> None:
        from backoffice.roles import ensure_roles_after_migrate

        # The Caller role is (re)created after every migrate, once the permissions it grants exist:
        # post_migrate is sent per app with models, in INSTALLED_APPS order, and this app (its call
        # openers) is the last of those whose permissions the role grants.
        post_migrate.connect(ensure_roles_after_migrate, sender=self)
