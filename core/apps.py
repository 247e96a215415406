from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Ground helpers shared by the apps (client identity, rate-limit counters, admin mixins).

    It imports no other app of the product; every app may import it."""

    name = "core"
    verbose_name = "ArkWatch core"

    def ready(self) -> None:
        from core.shared_state import pick_store

        # Once per process: every caller of the shared state then uses this store, whichever it is.
        pick_store()
