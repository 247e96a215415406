"""System checks of the prospects app: a consent policy with a word that is not a kind of tracking
refuses to start (manage.py runserver, migrate, qcluster), instead of silently tracking more."""

from typing import Any

from django.core.checks import Error, register
from django.utils.translation import gettext as _

from prospects.consent import CONSENT_KINDS, unknown_consent_kinds


def consent_policy_problem() -> str | None:
    unknown = unknown_consent_kinds()
    if not unknown:
        return None
    return _(
        "TRACKING_CONSENT_FOR: “%(words)s” is not a kind of tracking. Give a comma list of %(kinds)s "
        "(default pixel,storage), or leave it empty."
    ) % {"words": ", ".join(unknown), "kinds": ", ".join(CONSENT_KINDS)}


@register()
def consent_policy_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    problem = consent_policy_problem()
    return [Error(problem, id="prospects.E001")] if problem else []
