from typing import Any

from django.utils.translation import gettext_noop

from arkwatch.schedules import ensure_schedules
from core.commands import ProductCommand


class Command(ProductCommand):
    help = gettext_noop("Create or update the django-q2 schedules (idempotent; migrate also does it).")

    def handle(self, *args: Any, **options: Any) -> None:
        changed = ensure_schedules()
        self.stdout.write(("Updated: " + ", ".join(changed)) if changed else "Schedules already up to date.")
