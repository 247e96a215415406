from collections.abc import Callable

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProspectsConfig(AppConfig):
    name = "prospects"
    verbose_name = _("Prospects")
    # Set in ready(), for arkwatch/preflight.py, which says at every start which consent policy is on
    # and refuses an unknown word (it runs before the apps and imports no product code itself).
    consent_policy_sentence: Callable[[], str]
    consent_policy_problem: Callable[[], str | None]

    def ready(self) -> None:
        from prospects import checks  # registers the consent policy's system check
        from prospects.consent import consent_policy

        self.consent_policy_sentence = lambda: consent_policy().describe()
        self.consent_policy_problem = checks.consent_policy_problem
