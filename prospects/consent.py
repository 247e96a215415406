"""Tracking consent: what needs it (`TRACKING_CONSENT_FOR`), whether a prospect's answer allows a kind of
tracking, and the one service that changes the answer and records its proof.

Since 15 July 2026 the CNIL requires the recipient's consent for *individual* email-open measurement,
B2B included (délibération n° 2026-042); the EDPB's guidelines 2/2023 put link and pixel tracking and
browser storage under article 5(3) ePrivacy. docs/privacy.md says which setting follows which text.
This module is the single place the rest of the product asks; it reads settings at call time only.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from prospects.models import ConsentChange, ConsentSource, ConsentState, Prospect, ProspectStatus

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


def consent_allows(*, state: str, kind: str, status: str = "") -> bool:
    """Whether a prospect whose consent is `state` (and whose status is `status`) may be tracked
    individually in this `kind`.

    A refusal stops every kind, whatever the policy: the opt-out link is in every email, also for
    founders whose policy asks consent for nothing, and "Ne plus me suivre" must mean it (a pixel or a
    personal link minted before the refusal then records nothing identifying). A do-not-contact prospect
    is never tracked individually either: the unsubscribe and complaint paths set both, and a status set
    by hand must mean the same."""
    if status == ProspectStatus.DO_NOT_CONTACT or state == ConsentState.REFUSED:
        return False
    return kind not in consent_required_for() or state == ConsentState.GRANTED


def prospect_allows(prospect: Prospect, kind: str) -> bool:
    return consent_allows(state=prospect.tracking_consent, kind=kind, status=prospect.status)


def consent_state_at(prospect: Prospect, at: datetime) -> str:
    """The prospect's answer as it stood at `at`, from the proof: the last change made by then, or
    "unknown" before the first one. A prospect without any recorded change (rows older than the
    history) has only its current answer."""
    changes = ConsentChange.objects.filter(prospect_id=prospect.pk)
    state = changes.filter(changed_at__lte=at).order_by("-changed_at", "-pk").values_list("state", flat=True).first()
    if state is not None:
        return state
    return ConsentState.UNKNOWN if changes.exists() else prospect.tracking_consent


def prospect_allowed_at(prospect: Prospect, kind: str, at: datetime) -> bool:
    """Whether data of this `kind` collected at `at` may be used *now*: the consent it needed held
    when it was collected, and still holds (a refusal takes effect at once, also for what was
    collected before it)."""
    if not prospect_allows(prospect, kind):
        return False
    if kind not in consent_required_for():
        return consent_state_at(prospect, at) != ConsentState.REFUSED
    return consent_state_at(prospect, at) == ConsentState.GRANTED


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


def network_with_prefix(network: str | None) -> str:
    """An anonymised network (core/client.py anonymize_ip) as the proof shows it: 203.0.113.0/24."""
    if not network:
        return ""
    return f"{network}/{48 if ':' in network else 24}"


def consent_notice_context() -> dict[str, Any]:
    """What the French notices (templates/consent/notice_*) say that depends on the deployment: who
    collects, whom to write to, how long events are kept, and whether anything is written in the
    browser without consent."""
    days = settings.EVENT_RETENTION_DAYS
    return {
        "controller": settings.CONSENT_CONTROLLER_NAME or "l'expéditeur de cet email",
        "controller_name": settings.CONSENT_CONTROLLER_NAME,
        "contact_email": settings.CONSENT_CONTACT_EMAIL,
        "retention_months": round(days / 30.4) if days else 0,
        # A prospect with no contact from them for this long is erased (0: never).
        "erase_years": round(settings.PROSPECT_INACTIVE_ERASE_DAYS / 365, 1)
        if settings.PROSPECT_INACTIVE_ERASE_DAYS
        else 0,
        "storage_needs_consent": STORAGE in consent_required_for(),
        "pixel_needs_consent": PIXEL in consent_required_for(),
        "notice_version": NOTICE_VERSION,
        "landing_page_url": settings.LANDING_PAGE_URL,
    }


# The columns of the proof, in the command's --json, the admin's CSV export and the prospect's page.
PROOF_COLUMNS = ("email", "changed_at", "state", "source", "detail", "network", "notice_version", "by", "note")


def consent_proof_rows(prospects: Iterable[Prospect]) -> Iterator[dict[str, str]]:
    """Every recorded change of these prospects' consent, oldest first: what a founder hands to the
    CNIL (when, what, how, from which network, under which notice, by whom)."""
    changes = (
        ConsentChange.objects.filter(prospect__in=list(prospects))
        .select_related("prospect", "changed_by")
        .order_by("prospect__email", "changed_at", "pk")
    )
    for change in changes:
        yield {
            "email": change.prospect.email,
            "changed_at": change.changed_at.isoformat(),
            "state": change.state,
            "source": change.source,
            "detail": change.detail,
            "network": change.network,
            "notice_version": change.notice_version,
            "by": change.changed_by.get_username() if change.changed_by else "",
            "note": change.note,
        }
