"""Django's admin looks for the alerts app's pages here: each room registers its own."""

from alerts.outbox import admin as outbox_admin
from alerts.outcomes import admin as outcomes_admin
from alerts.signals import admin as signals_admin

__all__ = ["outbox_admin", "outcomes_admin", "signals_admin"]
