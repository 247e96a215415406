from typing import Any

from django.core.management.base import BaseCommand

from arkwatch.schedules import ensure_schedules


class Command(BaseCommand):
    help = "Create or update the django-q2 schedules (idempotent; migrate also does it)."

    def handle(self, *args: Any, **options: Any) -> None:
        changed = ensure_schedules()
        self.stdout.write(("Updated: " + ", ".join(changed)) if changed else "Schedules already up to date.")
