from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from arkwatch.schedules import ensure_schedules
from core.commands import ProductCommand


class Command(ProductCommand):
    help = gettext_noop("Create or update the django-q2 schedules (idempotent; migrate also does it).")

    def handle(self, *args: Any, **options: Any) -> None:
        changed = ensure_schedules()
        if changed:
            self.stdout.write(_("Schedules updated: %(names)s.") % {"names": ", ".join(changed)})
        else:
            self.stdout.write(_("Schedules already up to date."))
