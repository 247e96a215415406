"""A refused event says, in French by default, exactly what is wrong with which field."""

import json
from datetime import timedelta

import pytest
import time_machine

from tests.factories import BROWSER_UA, ProspectFactory, aware
from tracking.models import EmailEvent, VisitEvent
from tracking.schemas import Invalid, aware_datetime, http_url, message_id

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


# --- A visit's fields, one by one ------------------------------------------------------------------


@pytest.mark.parametrize("referrer", ["http://blog.example.org/post", "https://www.example.org/"])
def test_an_http_or_https_referrer_is_accepted(client, referrer):
    body = json.dumps({**VISIT, "referrer": referrer})
    assert client.post("/api/track/visit", body, content_type="application/json").status_code == 202


@pytest.mark.parametrize("value", [12345678, 1.5, True, ["reader-000001"], {"id": "reader-000001"}])
def test_a_visitor_id_that_is_not_a_string_is_a_400_with_a_sentence(client, value):
    assert refusal(client, "/api/track/visit", {**VISIT, "visitor_id": value})["visitor_id"]


def test_an_unknown_event_names_the_ones_allowed_in_french(client):
    fields = refusal(client, "/api/track/visit", {**VISIT, "event": "scroll"})
    assert fields["event"] == "Utilisez une valeur parmi : pageview, heartbeat, leave."


# --- The limits of a date, a URL and a Message-ID, as the schemas give them ------------------------

T0 = aware(2026, 11, 24, 9, 0, 0)
NOT_A_DATE = "Donnez une date ISO 8601 avec son décalage, par ex. 2026-11-24T09:14:00+01:00."


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("2000-01-01T00:00:00+00:00", True),
        ("1999-12-31T23:59:59+00:00", False),
        ("2026-13-45T09:00:00+00:00", False),  # the shape of a date, not a date
    ],
)
def test_an_event_time_is_accepted_from_the_year_2000(value, accepted):
    try:
        aware_datetime(value)
    except Invalid as refused:
        assert not accepted and str(refused) in ("Cette date est hors limites.", NOT_A_DATE)
    else:
        assert accepted


@pytest.mark.parametrize(
    ("ahead", "accepted"), [(timedelta(minutes=5), True), (timedelta(minutes=5, seconds=1), False)]
)
def test_an_event_time_may_be_at_most_five_minutes_ahead_of_our_clock(ahead, accepted):
    with time_machine.travel(T0, tick=False):
        value = (T0 + ahead).isoformat()
        if accepted:
            assert aware_datetime(value) == T0 + ahead
        else:
            with pytest.raises(Invalid, match="plus de 5 minutes dans le futur"):
                aware_datetime(value)


def test_a_url_of_2048_characters_is_accepted_and_one_more_is_refused():
    base = "https://example.com/"
    assert http_url(base + "a" * (2048 - len(base)))
    with pytest.raises(Invalid, match="2048"):
        http_url(base + "a" * (2049 - len(base)))


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("m" * 200, True),
        ("m" * 201, False),
        ("", False),
        ("   ", False),
        ("<abc\x07@mail>", False),
        ("<abc@mail>", True),
    ],
)
def test_a_message_id_is_1_to_200_printable_characters(value, accepted):
    if accepted:
        assert message_id(value) == value
    else:
        with pytest.raises(Invalid, match="1 à 200 caractères imprimables"):
            message_id(value)
