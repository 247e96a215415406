from typing import Any

from django.core.management.base import BaseCommand

from backoffice.roles import CALLER_GROUP, ensure_caller_group


class Command(BaseCommand):
    help = f"Create or refresh the “{CALLER_GROUP}” group and its permissions (migrate also does it)."

    def handle(self, *args: Any, **options: Any) -> None:
        group = ensure_caller_group()
        self.stdout.write(f"Group “{group.name}”: {group.permissions.count()} permissions.")
