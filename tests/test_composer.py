import pytest
from django.test import override_settings

from alerts.outbox.composer import compose_alert_sms
from alerts.outbox.gsm import gsm7_segments, gsm7_units, is_gsm7, to_gsm7, truncate_units


def compose(**overrides) -> str:
    values = {
        "signal": "cta_click",
        "evidence": {"cta_id": "cta_reserver_audit"},
        "name": "Camille Martin",
        "company": "Exemple Logistique",
        "phone": "+33199001234",
        "pain_point": "Alertes trop tardives",
        "alert_id": 42,
    }
    return compose_alert_sms(**{**values, **overrides})


def assert_one_segment(text: str) -> None:
    assert is_gsm7(text), text
    assert gsm7_units(text) <= 160, (gsm7_units(text), text)


def test_it_says_who_why_the_number_and_the_link_in_french():
    text = compose()
    assert_one_segment(text)
    assert "Camille Martin" in text and "Exemple Logistique" in text
    assert text.startswith('A cliqué "Réserver audit": ')
    assert "Appeler +33 1 99 00 12 34" in text  # grouped for reading, international so it dials from abroad
    assert text.endswith("https://track.example.com/l/42")


@pytest.mark.parametrize(
    ("signal", "evidence", "expected"),
    [
        ("page_dwell", {"dwell_seconds": 95}, "A lu la page 95 s"),
        ("page_dwell", {"dwell_seconds": 104, "page": "/audit-gratuit-monitoring.html"}, "Lu 104 s sur /audit-gratuit"),
        ("email_reopen", {"hours_after_sent": 26.5}, "A rouvert l'email 26,5 h après l'envoi"),
        ("email_reopen", {"hours_after_sent": 30.0, "client": "Thunderbird"}, "30 h après l'envoi - Thunderbird"),
    ],
)
def test_each_signal_is_explained(signal, evidence, expected):
    text = compose(signal=signal, evidence=evidence)
    assert expected in text
    assert_one_segment(text)


def test_characters_outside_gsm7_are_replaced_not_sent_as_ucs2():
    text = compose(name="Hélène Françoise Dîner 🚀", company="Crêperie “Ça va” — Œuvre ✨")
    assert_one_segment(text)
    assert "Hélène" in text, "é is in GSM-7 and must stay"
    assert "Francoise" in text and "Diner" in text and "Creperie" in text
    assert "🚀" not in text and "✨" not in text


def test_very_long_names_and_companies_still_fit_keeping_the_essentials():
    text = compose(
        name="Jean-Baptiste " * 12,
        company="Société Internationale de Logistique " * 8,
        pain_point="Très long point de douleur " * 20,
    )
    assert_one_segment(text)
    assert "+33 1 99 00 12 34" in text and "https://track.example.com/l/42" in text
    assert "Jean-Baptiste" in text


@override_settings(SMS_MAX_SEGMENTS=2)
def test_a_second_segment_when_allowed_keeps_more_of_the_pain_point():
    text = compose(pain_point="Très long point de douleur " * 20)
    # Two linked parts carry 153 units each, not 160: 307 to 320 units would be billed as three.
    assert 160 < gsm7_units(text) <= 306


def test_extension_characters_count_double():
    assert gsm7_units("{}[]€") == 10
    text = compose(pain_point="{" * 200)
    assert_one_segment(text)


def test_without_a_phone_the_sms_gives_the_shortest_way_to_reach_them():
    by_email = compose(phone="", email="camille@exemple-logistique.example")
    assert "Appeler" not in by_email and ". camille@exemple-logistique.example." in by_email
    by_site = compose(phone="", email="", website="https://www.linkedin.com/in/camille/")
    assert ". linkedin.com/in/camille." in by_site
    assert "Aucun moyen de le joindre" in compose(phone="", email="", website="")


def test_a_shortened_pain_point_ends_at_a_word_with_an_ellipsis_never_a_shorter_sentence():
    pain = "Alertes de monitoring trop tardives la nuit, astreinte réveillée pour rien chaque semaine"
    text = compose(pain_point=pain)
    assert_one_segment(text)
    assert pain not in text
    kept = text.split("Appeler +33 1 99 00 12 34. ")[1].split(" https://")[0]
    assert kept.endswith("...") and pain.startswith(kept[:-3]) and pain[len(kept) - 3] == " "


@override_settings(LANGUAGE_CODE="en")
def test_the_language_follows_the_settings():
    assert compose().startswith('Clicked "Réserver audit": Camille Martin')
    assert "Call +33 1 99 00 12 34" in compose()


@pytest.mark.parametrize(
    ("text", "sent", "units"),
    [
        ("ê", "e", 1),
        ("ç", "c", 1),
        ("ô", "o", 1),
        ("ï", "i", 1),
        ("Ç", "Ç", 1),  # in GSM-7: kept
        ("É", "É", 1),
        ("ñ", "ñ", 1),
        ("“Ça va”", '"Ça va"', 7),
        ("…", "...", 3),
        ("–", "-", 1),
        ("œuvre", "oeuvre", 6),
        ("Hugo\u00a0Martin", "Hugo Martin", 11),
        ("€", "€", 2),  # extension character: two units
        ("🚀 go", "go", 2),
        ("a\nb", "a b", 3),
    ],
)
def test_gsm7_conversion_character_by_character(text, sent, units):
    assert to_gsm7(text) == sent
    assert gsm7_units(sent) == units
    assert is_gsm7(sent)


@pytest.mark.parametrize(
    ("text", "units", "kept"),
    [
        ("abc", 3, "abc"),  # fits exactly: untouched
        ("abc", 2, "ab"),
        ("abc", 0, ""),
        ("a{b", 2, "a"),  # "{" costs two units: it does not fit in the second one
        ("{{{", 4, "{{"),
        ("{{{", 5, "{{"),
        ("Alertes trop tardives le soir", 23, "Alertes trop tardives"),  # no "l" left dangling
        ("abcdef ghij", 8, "abcdef"),
        ("ab cdefghij", 8, "ab cdefg"),  # the last space is too early: cut inside the word
        ("Bonjour, monde", 9, "Bonjour"),  # no trailing comma or space
        ("x y-z", 4, "x y"),
    ],
)
def test_shortening_keeps_whole_words_within_the_budget(text, units, kept):
    assert truncate_units(text, units) == kept
    assert gsm7_units(kept) <= units


def test_to_gsm7_keeps_plain_text_intact():
    assert to_gsm7("Bonjour à tous, ça va?") == "Bonjour à tous, ca va?"


# --- A lead's SMS with little to say, or too much: the company, the address, the whole link ----------


@pytest.mark.parametrize("company", ["", "Exemple Logistique"])
def test_an_sms_names_the_company_only_when_there_is_one(company):
    text = compose(company=company, email="camille@exemple-logistique.fr")
    assert "()" not in text
    assert ("(Exemple Logistique)" in text) is bool(company)
    # The name stays, company or not; the email stands in only for a lead with neither.
    assert "Camille Martin" in text and "camille@" not in text


def test_an_sms_about_a_lead_known_only_by_email_reads_cleanly():
    text = compose(name="", company="", phone="", pain_point="", email="bob@beta.io")
    assert text == 'A cliqué "Réserver audit". bob@beta.io. https://track.example.com/l/42'


def test_an_sms_whose_reach_alone_overflows_drops_even_the_link_and_still_leaves():
    # No phone, a 184-character address: every other part is shortened away, then the link.
    text = compose(phone="", email="a" * 60 + "@" + "b" * 120 + ".fr")
    assert text.startswith('A cliqué "Réserver audit". aaaa') and gsm7_units(text) <= 160
    assert "https://" not in text


@pytest.mark.parametrize("local_part", [60, 90, 95, 100, 105, 110])
def test_an_sms_carries_its_whole_link_or_none_of_it(local_part):
    # No phone, a long address: name, company and pain point give way first; when the link still does
    # not fit, it goes whole. Half a link opens nothing, and the founder would tap it at 9:14.
    link = "https://track.example.com/l/42"
    address = "a" * local_part + "@exemple-logistique.fr"
    text = compose(phone="", email=address)
    assert gsm7_units(text) <= 160 and address in text
    assert text.endswith(address + ". " + link) or (text.endswith(address) and "track." not in text)


def test_a_two_part_sms_with_an_escaped_character_on_the_boundary_is_shortened_and_keeps_its_link(settings):
    # 304 units would fit two parts of 153, but the "{" (escape + character) straddles them: the pain
    # point gives up a little more and the SMS still leaves in two parts, its link last.
    settings.SMS_MAX_SEGMENTS = 2
    text = compose(pain_point=("x" * 61 + "{" + "y" * 300)[:182])
    assert gsm7_segments(text) == 2 and gsm7_units(text) <= 306
    assert text.endswith("y... https://track.example.com/l/42")


def test_a_line_break_in_a_field_becomes_one_space_an_sms_is_one_line():
    assert "Xavier veut moins d'astreintes" in compose(pain_point="Xavier veut\r\nmoins d'astreintes")


def test_a_text_of_exactly_the_budget_is_kept_whole_its_final_period_too():
    text = "x" * 159 + "."
    assert truncate_units(text, 160) == text
    assert truncate_units(text + " y", 160) == "x" * 159  # cut, and the dangling period goes with it
    assert truncate_units("REF-XXX" * 30, 160).endswith("X")  # only punctuation is dropped at the cut
