import pytest

from tests.factories import CtaClickFactory, ProspectFactory, VisitEventFactory
from tracking.matching import ProspectDirectory, VisitorHints, visitor_link, visitors_match
from tracking.models import Visitor

pytestmark = pytest.mark.django_db


def match(visitor_id="visitor-1", **event_fields):
    VisitEventFactory(visitor_id=visitor_id, **event_fields)
    visitors_match([visitor_id])
    return Visitor.objects.get(visitor_id=visitor_id)


def test_ak_token_matches():
    prospect = ProspectFactory()
    visitor = match(ak=prospect.identity_token)
    assert (visitor.prospect, visitor.match_method, visitor.match_evidence) == (
        prospect,
        "ak",
        {"ak": prospect.identity_token},
    )


def test_exact_email_matches():
    prospect = ProspectFactory(email="cto@acme-corp.example")
    assert match(email="cto@acme-corp.example").match_method == "email"
    assert Visitor.objects.get().prospect == prospect


def test_company_domain_uses_the_registrable_domain():
    prospect = ProspectFactory(email="cto@initech-tools.com")
    visitor = match(email="someone@wiki.initech-tools.com")
    assert (visitor.prospect, visitor.match_method) == (prospect, "company_domain")


def test_free_mail_never_matches_by_domain():
    ProspectFactory(email="cto@gmail.com")
    assert match(email="another@gmail.com").prospect is None


def test_a_prospect_with_a_free_mail_website_does_not_catch_every_gmail_visitor():
    ProspectFactory(email="cto@acme-corp.example", website="https://mail.google.com", extra_domains="gmail.com")
    assert match(email="someone.else@gmail.com").prospect is None


def test_matching_itself_refuses_a_free_mail_domain_even_if_the_directory_holds_one():
    prospect = ProspectFactory(email="cto@acme-corp.example")
    directory = ProspectDirectory()
    directory.by_domain["gmail.com"].add(prospect.pk)
    assert directory.best_match(VisitorHints(emails={"someone.else@gmail.com"})) is None
    directory.by_domain["acme-corp.example"].add(prospect.pk)
    assert directory.best_match(VisitorHints(emails={"someone.else@acme-corp.example"}))[0] == prospect.pk


def test_referrer_domain_matches_the_company_domains():
    prospect = ProspectFactory(email="cto@acme-corp.example", website="https://acme-corp.example")
    visitor = match(referrer="https://intranet.acme-corp.example/wiki/page")
    assert (visitor.prospect, visitor.match_method) == (prospect, "referrer_domain")


def test_ip_rules_match_the_stored_network():
    prospect = ProspectFactory(ip_ranges="203.0.113.0/25")
    visitor = match(client_network="203.0.113.0")
    assert (visitor.prospect, visitor.match_method) == (prospect, "ip")
    # What the prospect page says about that browser.
    assert visitor.match_evidence_sentence == "A navigué depuis le réseau de l'entreprise 203.0.113.0/24"


def test_a_domain_shared_by_two_prospects_is_ambiguous_and_matches_nobody():
    ProspectFactory(email="a@shared-co.example")
    ProspectFactory(email="b@shared-co.example")
    assert match(email="c@shared-co.example").prospect is None


def test_the_strongest_hint_wins_when_they_conflict():
    by_email = ProspectFactory(email="cto@acme-corp.example")
    by_ak = ProspectFactory()
    visitor = match(email=by_email.email, ak=by_ak.identity_token)
    assert visitor.prospect == by_ak and visitor.match_method == "ak"


def test_a_weaker_match_never_overwrites_a_stronger_one():
    first = ProspectFactory()
    other = ProspectFactory(email="x@other-co.example")
    match(ak=first.identity_token)
    visitor = match(email="someone@other-co.example")  # later event, weaker method, other prospect
    assert (visitor.prospect, visitor.match_method) == (first, "ak")
    assert visitor_link(visitor=visitor, prospect=other, method="referrer_domain", evidence={}) is False


def test_a_stronger_match_upgrades_and_reattributes_events():
    weak = ProspectFactory(email="a@weak-co.example")
    strong = ProspectFactory()
    match(email="z@weak-co.example")
    visitor = match(ak=strong.identity_token)
    assert visitor.prospect == strong
    assert weak.visitevent_set.count() == 0 and strong.visitevent_set.count() == 2


def test_a_visitor_guessed_by_domain_who_then_follows_their_personal_link_is_verified():
    # Same prospect, stronger proof: the SMS about their next signal must not say "(non vérifié)".
    prospect = ProspectFactory(email="cto@acme-corp.example")
    assert match(email="dev@acme-corp.example").match_method == "company_domain"
    visitor = match(ak=prospect.identity_token)
    assert (visitor.prospect, visitor.match_method, visitor.identification) == (prospect, "ak", "verified")
    assert visitor_link(visitor=visitor, prospect=prospect, method="ak", evidence={}) is False  # nothing new


def test_once_matched_earlier_and_later_events_are_attributed():
    prospect = ProspectFactory()
    VisitEventFactory(visitor_id="visitor-1")  # anonymous, before the match
    match(ak=prospect.identity_token)
    CtaClickFactory(visitor_id="visitor-1")  # after the match, carries no hint
    visitors_match(["visitor-1"])
    assert prospect.visitevent_set.count() == 2 and prospect.ctaclick_set.count() == 1


def test_bot_events_give_no_hints():
    prospect = ProspectFactory()
    assert match(ak=prospect.identity_token, is_bot=True).prospect is None


def test_directory_best_match_returns_none_without_hints():
    ProspectFactory()
    assert ProspectDirectory.load().best_match(VisitorHints()) is None


def test_hints_from_unknown_companies_match_nobody():
    ProspectFactory(email="cto@acme-corp.example", website="https://acme-corp.example")
    visitor = match(email="someone@unknown-company.example", referrer="https://www.unknown-site.example/page")
    assert (visitor.prospect, visitor.match_method) == (None, "")


def test_a_colleague_at_a_platform_company_is_matched_by_their_address():
    # Staff of a platform (its own domain is never a company domain for visitors from it) still give
    # their work address: dev@ of the CTO's platform company is that prospect.
    prospect = ProspectFactory(email="cto@slack.com")
    visitor = match(email="dev@slack.com")
    assert (visitor.prospect, visitor.match_method) == (prospect, "company_domain")


# --- How each browser was recognised, in the prospect page's words -----------------------------------


@pytest.mark.parametrize(
    ("hint", "method", "sentence"),
    [
        ({"email": "cto@acme-corp.example"}, "email", "A donné l'email cto@acme-corp.example"),
        (
            {"email": "dev@acme-corp.example"},
            "company_domain",
            "A donné dev@acme-corp.example, une adresse du domaine de l'entreprise acme-corp.example",
        ),
    ],
)
def test_the_prospect_page_says_how_each_browser_was_recognised(hint, method, sentence):
    ProspectFactory(email="cto@acme-corp.example")
    visitor = match("reader-000001", **hint)
    assert (visitor.match_method, visitor.match_evidence_sentence) == (method, sentence)
