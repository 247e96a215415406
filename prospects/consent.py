"""Tracking consent: what needs it (`TRACKING_CONSENT_FOR`), whether a prospect's answer allows a kind of
tracking, and the one service that changes the answer and records its proof.

Since 15 July 2026 the CNIL requires the recipient's consent for *individual* email-open measurement,
B2B included (délibération n° 2026-042); the EDPB's guidelines 2/2023 put link and pixel tracking and
browser storage under article 5(3) ePrivacy. docs/privacy.md says which setting follows which text.
This module is the single place the rest of the product asks; it reads settings at call time only.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from prospects.models import ConsentChange, ConsentSource, ConsentState, Prospect

PIXEL = "pixel"  # the identifying open pixel (a re-open signal comes from it)
STORAGE = "storage"  # anything the tracker writes in the browser (localStorage, sessionStorage, cookies)
LINK = "link"  # the personal `ak` in links, and identifying a page view by it
CONSENT_KINDS = (PIXEL, STORAGE, LINK)
DEFAULT_CONSENT_FOR = (PIXEL, STORAGE)

# The version of the French notice (templates/consent/notice_*.html) shown when consent is asked; recorded
# with each change so the proof says which text the person read. Change it when the notice's text changes.
NOTICE_VERSION = "2026-12-06"


def consent_required_for() -> tuple[str, ...]:
    """The kinds of tracking that need the prospect's consent under the configured policy."""
    return tuple(kind for kind in settings.TRACKING_CONSENT_FOR if kind in CONSENT_KINDS)


def unknown_consent_kinds() -> list[str]:
    """Words in TRACKING_CONSENT_FOR that are not a kind of tracking (a typo would silently relax the policy)."""
    return [kind for kind in settings.TRACKING_CONSENT_FOR if kind not in CONSENT_KINDS]


def consent_allows(*, state: str, kind: str) -> bool:
    """Whether a prospect whose consent is `state` may be tracked individually in this `kind`."""
    return kind not in consent_required_for() or state == ConsentState.GRANTED


def prospect_allows(prospect: Prospect, kind: str) -> bool:
    # A do-not-contact prospect is never tracked individually, whatever the policy: the unsubscribe
    # and complaint paths set both, and a status set by hand must mean the same.
    if prospect.status == Prospect.Status.DO_NOT_CONTACT:
        return False
    return consent_allows(state=prospect.tracking_consent, kind=kind)


@dataclass(frozen=True)
class ConsentPolicy:
    required_for: tuple[str, ...]

    def describe(self) -> str:
        """One French sentence for start-up and the dashboard."""
        if not self.required_for:
            return "Consentement : aucun suivi individuel ne demande de consentement (TRACKING_CONSENT_FOR vide)."
        names = {PIXEL: "pixel d'ouverture", STORAGE: "stockage dans le navigateur", LINK: "lien personnel (ak)"}
        listed = ", ".join(names[kind] for kind in self.required_for)
        return f"Consentement demandé pour : {listed} (TRACKING_CONSENT_FOR={','.join(self.required_for)})."


def consent_policy() -> ConsentPolicy:
    return ConsentPolicy(required_for=consent_required_for())


def prospect_consent_record(
    *,
    prospect: Prospect,
    state: str,
    source: str,
    network: str = "",
    notice_version: str = NOTICE_VERSION,
    detail: str = "",
    note: str = "",
    by: Any = None,
    at: datetime | None = None,
) -> ConsentChange:
    """Set the prospect's tracking consent and append its proof, in one transaction. Effective at once:
    every pixel, link and alert asks the prospect's current state. A change to the same state is still
    recorded (a second refusal from another email is proof too)."""
    if state not in ConsentState.values:
        raise ValueError(f"unknown consent state {state!r}")
    if source not in ConsentSource.values:
        raise ValueError(f"unknown consent source {source!r}")
    with transaction.atomic():
        Prospect.objects.filter(pk=prospect.pk).update(tracking_consent=state, updated_at=timezone.now())
        prospect.tracking_consent = state
        return ConsentChange.objects.create(
            prospect=prospect,
            state=state,
            source=source,
            network=network[:64],
            notice_version=notice_version[:32],
            detail=detail[:200],
            note=note,
            changed_by=by,
            changed_at=at or timezone.now(),
        )
