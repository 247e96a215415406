"""Tracking consent: the policy setting, the prospect's answer, and its append-only proof."""

import pytest

from prospects.consent import (
    LINK,
    PIXEL,
    STORAGE,
    consent_policy,
    prospect_allows,
    prospect_consent_record,
    unknown_consent_kinds,
)
from prospects.models import ConsentChange, ConsentSource, ConsentState, Prospect
from tests.factories import ProspectFactory

pytestmark = pytest.mark.django_db


def test_by_default_the_pixel_and_browser_storage_need_consent_and_the_link_does_not():
    prospect = ProspectFactory()
    assert prospect.tracking_consent == ConsentState.UNKNOWN
    assert not prospect_allows(prospect, PIXEL)
    assert not prospect_allows(prospect, STORAGE)
    assert prospect_allows(prospect, LINK)


def test_the_strictest_policy_asks_consent_for_the_personal_link_too(settings):
    settings.TRACKING_CONSENT_FOR = ["pixel", "storage", "link"]
    assert not prospect_allows(ProspectFactory(), LINK)


def test_an_empty_policy_tracks_everyone_but_those_who_refused_nothing_of_the_do_not_contact(settings):
    settings.TRACKING_CONSENT_FOR = []
    assert prospect_allows(ProspectFactory(), PIXEL)
    assert not prospect_allows(ProspectFactory(status=Prospect.Status.DO_NOT_CONTACT), PIXEL)
    assert "vide" in consent_policy().describe()


def test_a_grant_then_a_refusal_take_effect_at_once_and_both_are_kept_as_proof():
    prospect = ProspectFactory()
    prospect_consent_record(
        prospect=prospect, state=ConsentState.GRANTED, source=ConsentSource.CONSENT_LINK, network="203.0.113.0/24"
    )
    assert prospect_allows(Prospect.objects.get(pk=prospect.pk), PIXEL)
    prospect_consent_record(prospect=prospect, state=ConsentState.REFUSED, source=ConsentSource.OPTOUT_LINK)
    stored = Prospect.objects.get(pk=prospect.pk)
    assert stored.tracking_consent == ConsentState.REFUSED
    assert not prospect_allows(stored, PIXEL)
    history = list(ConsentChange.objects.filter(prospect=prospect).values_list("state", "source", "network"))
    assert history == [
        ("granted", "consent_link", "203.0.113.0/24"),
        ("refused", "optout_link", ""),
    ]


def test_a_typo_in_the_policy_is_reported_not_silently_ignored(settings):
    settings.TRACKING_CONSENT_FOR = ["pixel", "stockage"]
    assert unknown_consent_kinds() == ["stockage"]
    assert "stockage" not in consent_policy().required_for
