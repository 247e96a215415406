"""A refused event says, in French by default, exactly what is wrong with which field."""

import json

import pytest

from tests.factories import BROWSER_UA, ProspectFactory
from tracking.models import EmailEvent, VisitEvent

pytestmark = pytest.mark.django_db

VISIT = {"visitor_id": "visitor-abcdef", "page_view_id": "pv-abcdef01", "page": "/audit", "event": "pageview"}


def refusal(client, path: str, body: dict, **headers) -> dict:
    response = client.post(
        path, json.dumps(body), content_type="application/json", HTTP_USER_AGENT=BROWSER_UA, **headers
    )
    assert response.status_code == 400, response.content
    return response.json()["fields"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("referrer", "https://example.com/" + "a" * 2100, "2048 caractères au plus."),
        ("referrer", "https://example.com/\x07bell", "L'URL contient des caractères de contrôle."),
        ("referrer", "http://[::1", "Ce n'est pas une URL valide."),
        ("referrer", "ftp://example.com/file", "Donnez une URL http(s) absolue."),
        ("referrer", "HTTPS://example.com/", None),  # accepted: schemes are case-insensitive
        ("page", "/a\x01b", "Le chemin contient des caractères de contrôle."),
        ("page", "/" + "a" * 2047, None),  # accepted: 2048 characters, the ceiling itself
        ("page", "/" + "a" * 2048, "2048 caractères au plus."),
        ("page", "https://www.example.com/audit", None),  # accepted: a whole URL is a page too
        ("page", "//evil.example/x", "Donnez une URL http(s) absolue."),  # a host, not a path
        ("page", 42, "Doit être une chaîne de caractères."),
        (
            "page",
            "/a\x00b",
            "Contient un caractère impossible à enregistrer (un octet NUL ou un demi-caractère UTF-16 isolé).",
        ),
        ("visitor_id", "short", "Utilisez 8 à 128 caractères parmi lettres, chiffres, « _ » et « - »."),
        ("event", "scroll", "Utilisez une valeur parmi : pageview, heartbeat, leave."),
        ("engaged_ms", -1, "Doit être entre 0 et 10^12."),
        ("engaged_ms", 10**12 + 1, "Doit être entre 0 et 10^12."),
        ("engaged_ms", 10**12, None),  # accepted: the ceiling itself
        ("engaged_ms", "90000", "Doit être un nombre entier."),
        ("heartbeat_s", "15", "Doit être un nombre de secondes."),
        ("heartbeat_s", 0.5, "Doit être entre 1 et 60 secondes."),
        ("heartbeat_s", 61, "Doit être entre 1 et 60 secondes."),
        ("heartbeat_s", 60, None),
        ("ak", "not a token!", "Ce n'est pas un jeton d'identité."),
        ("email", "x" * 250 + "@a.fr", "254 caractères au plus."),
        ("email", "pas-une-adresse", "Saisissez une adresse email valide."),
    ],
)
def test_each_bad_field_is_named_with_its_problem_and_nothing_is_stored(client, field, value, message):
    body = {**VISIT, field: value}
    if message is None:
        response = client.post(
            "/api/track/visit", json.dumps(body), content_type="text/plain", HTTP_USER_AGENT=BROWSER_UA
        )
        assert response.status_code == 202
        return
    assert refusal(client, "/api/track/visit", body) == {field: message}
    assert VisitEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("occurred_at", "message"),
    [
        ("hier", "Donnez une date ISO 8601 avec son décalage, par ex. 2026-11-24T09:14:00+01:00."),
        (
            "2026-11-24T09:14:00",
            "Donnez une date ISO 8601 avec son décalage, par ex. 2026-11-24T09:14:00+01:00.",
        ),
        ("9999-12-31T23:59:59-23:59", "Cette date est hors limites."),
        ("2099-01-01T00:00:00+00:00", "Cette heure est plus de 5 minutes dans le futur."),
    ],
)
@pytest.mark.parametrize("key", ["k" * 32])
def test_the_email_api_names_a_bad_date(client, settings, key, occurred_at, message):
    settings.TRACKING_API_KEY = key
    prospect = ProspectFactory()
    body = {"email": prospect.email, "message_id": "m1", "event": "sent", "occurred_at": occurred_at}
    assert refusal(client, "/api/track/email", body, HTTP_AUTHORIZATION=f"Bearer {key}") == {"occurred_at": message}
    assert EmailEvent.objects.count() == 0


def test_a_bad_cta_id_is_named(client):
    body = {**VISIT, "cta_id": "Réserver audit"}
    assert refusal(client, "/api/track/cta", body) == {
        "cta_id": "Utilisez 1 à 64 caractères parmi a-z, 0-9, « _ » et « - »."
    }


def test_a_bad_message_id_is_named(client, settings):
    settings.TRACKING_API_KEY = "k" * 32
    prospect = ProspectFactory()
    body = {"email": prospect.email, "message_id": "m" * 201, "event": "sent"}
    assert refusal(client, "/api/track/email", body, HTTP_AUTHORIZATION="Bearer " + "k" * 32) == {
        "message_id": "Donnez l'identifiant de message en 1 à 200 caractères imprimables."
    }


def test_the_refusal_names_every_bad_field_in_one_sentence(client):
    response = client.post(
        "/api/track/visit",
        json.dumps({**VISIT, "event": "scroll", "engaged_ms": -1}),
        content_type="application/json",
        HTTP_USER_AGENT=BROWSER_UA,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "L'événement n'a pas été enregistré : vérifiez event, engaged_ms."


def test_every_missing_field_is_named_an_empty_one_too(client):
    body = {"visitor_id": "", "event": "pageview"}  # an empty visitor id, no page
    assert refusal(client, "/api/track/visit", body) == {
        "visitor_id": "Ce champ est obligatoire.",
        "page": "Ce champ est obligatoire.",
    }
    assert VisitEvent.objects.count() == 0


def test_an_empty_optional_field_is_as_if_absent(client):
    # A direct visit's document.referrer is "": the visit is stored, not refused.
    body = {**VISIT, "referrer": "", "email": "", "ak": "", "page_view_id": ""}
    response = client.post(
        "/api/track/visit", json.dumps(body), content_type="application/json", HTTP_USER_AGENT=BROWSER_UA
    )
    assert response.status_code == 202, response.content
    assert VisitEvent.objects.get().referrer == ""


@pytest.mark.parametrize(("length", "accepted"), [(254, True), (255, False)])
def test_an_email_of_254_characters_is_the_longest_accepted(client, length, accepted):
    address = "x" * (length - len("@acme.fr")) + "@acme.fr"
    response = client.post(
        "/api/track/visit",
        json.dumps({**VISIT, "email": address}),
        content_type="text/plain",
        HTTP_USER_AGENT=BROWSER_UA,
    )
    assert (response.status_code == 202) is accepted
