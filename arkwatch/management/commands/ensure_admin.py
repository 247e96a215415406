import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.commands import ProductCommand


class Command(ProductCommand):
    help = gettext_noop(
        "Create the first admin account if none exists: ADMIN_USERNAME / ADMIN_EMAIL / ADMIN_PASSWORD from the "
        "environment, or a generated password printed once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        import environ

        env = environ.Env()
        users = get_user_model()
        if users.objects.filter(is_superuser=True).exists():
            self.stdout.write(_("An admin account already exists (a lost password: manage.py changepassword <name>)."))
            return
        username = env("ADMIN_USERNAME", default="admin")
        password = env("ADMIN_PASSWORD", default="")
        generated = not password
        password = password or secrets.token_urlsafe(12)
        users.objects.create_superuser(username=username, email=env("ADMIN_EMAIL", default=""), password=password)
        if generated:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Created admin account “%(name)s” with password: %(password)s\n"
                        "It is shown only this once: write it down, or set ADMIN_PASSWORD next time."
                    )
                    % {"name": username, "password": password}
                )
            )
        else:
            self.stdout.write(
                _("Created admin account “%(name)s” (password from ADMIN_PASSWORD).") % {"name": username}
            )
