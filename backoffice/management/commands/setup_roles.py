from typing import Any

from django.utils.translation import gettext_noop

from backoffice.roles import ensure_caller_group
from core.commands import ProductCommand


class Command(ProductCommand):
    help = gettext_noop("Create or refresh the callers' group and its permissions (migrate also does it).")

    def handle(self, *args: Any, **options: Any) -> None:
        group = ensure_caller_group()
        self.stdout.write(f"Group “{group.name}”: {group.permissions.count()} permissions.")
