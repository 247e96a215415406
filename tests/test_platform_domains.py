"""Shared platforms are not companies: a LinkedIn page, a GitHub Pages site or a Notion page given as a
prospect's website never makes LinkedIn's, GitHub's or Notion's visitors that prospect."""

import pytest

from prospects.domains import company_domain_of_email, why_not_a_company_domain
from tests.factories import ProspectFactory, VisitEventFactory
from tracking.matching import visitors_match
from tracking.models import Visitor

pytestmark = pytest.mark.django_db

PLATFORM_WEBSITES = [
    "https://www.linkedin.com/company/acme-corp",
    "https://github.com/acme-corp",
    "https://acme-corp.github.io",
    "https://acme-corp.notion.site/About",
    "https://medium.com/@acme",
    "https://sites.google.com/view/acme-corp",
    "https://acme.substack.com",
    "https://acme.wixsite.com/home",
    "https://acme.webflow.io",
]


@pytest.mark.parametrize("website", PLATFORM_WEBSITES)
def test_a_platform_website_is_not_a_company_domain_and_the_admin_says_why(website, admin_client):
    prospect = ProspectFactory(email="cto@gmail.com", website=website)
    assert prospect.domain_list == []
    left_out = dict(prospect.domains_left_out())
    assert "gmail.com" in left_out and len(left_out) == 2
    page = admin_client.get(f"/admin/prospects/prospect/{prospect.pk}/change/").content.decode()
    assert "shared platform" in page or "plateforme partagée" in page


@pytest.mark.parametrize("website", PLATFORM_WEBSITES)
def test_a_visitor_coming_from_that_platform_matches_nobody(website):
    ProspectFactory(email="cto@gmail.com", website=website)
    VisitEventFactory(visitor_id="from-platform-1", referrer=website.rstrip("/") + "/feed")
    visitors_match(["from-platform-1"])
    assert Visitor.objects.get(visitor_id="from-platform-1").prospect is None


def test_an_address_on_a_platform_domain_identifies_nobody(client, django_capture_on_commit_callbacks):
    ProspectFactory(email="cto@acme-corp.example", website="https://www.linkedin.com/company/acme")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/track/identify",
            '{"visitor_id": "identify-me-1", "email": "someone@linkedin.com"}',
            "application/json",
            HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0",
        )
    assert response.status_code == 202
    visitor = Visitor.objects.get(visitor_id="identify-me-1")
    assert visitor.prospect is None and company_domain_of_email("someone@linkedin.com") is None


def test_a_real_company_website_still_counts():
    prospect = ProspectFactory(email="cto@gmail.com", website="https://www.acme-corp.fr/contact")
    assert prospect.domain_list == ["acme-corp.fr"] and why_not_a_company_domain("acme-corp.fr") == ""


# Issue 18, point 8: people who work at a platform company are prospects like any other.


def identify(client, visitor_id: str, email: str, run_on_commit) -> Visitor:
    response = run_on_commit(
        client.post,
        "/api/track/identify",
        f'{{"visitor_id": "{visitor_id}", "email": "{email}"}}',
        "application/json",
        HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0",
    )
    assert response.status_code == 202
    visitors_match([visitor_id])
    return Visitor.objects.get(visitor_id=visitor_id)


@pytest.mark.parametrize("colleague", ["jane@github.com", "jane@eng.github.com", "JANE@corp.github.com"])
def test_a_colleagues_address_at_a_platform_company_matches_the_prospect_who_works_there(
    client, run_on_commit, colleague
):
    cto = ProspectFactory(email="cto@github.com", company="GitHub")
    visitor = identify(client, "colleague-0001", colleague, run_on_commit)
    assert visitor.prospect == cto and visitor.match_method == "company_domain"


def test_a_visitor_from_the_platforms_public_pages_still_matches_nobody():
    ProspectFactory(email="cto@github.com", company="GitHub")
    ProspectFactory(email="vp@linkedin.com", company="LinkedIn")
    for n, referrer in enumerate(
        ["https://github.com/acme/repo", "https://www.linkedin.com/feed/", "https://gist.github.com/x"]
    ):
        VisitEventFactory(visitor_id=f"from-platform-{n}", referrer=referrer)
    visitors_match([f"from-platform-{n}" for n in range(3)])
    assert not Visitor.objects.filter(prospect__isnull=False).exists()


def test_a_platform_address_still_means_nobody_when_no_prospect_works_there(client, run_on_commit):
    ProspectFactory(email="cto@acme-corp.example", website="https://github.com/acme-corp")
    assert identify(client, "stranger-0001", "someone@github.com", run_on_commit).prospect is None


def test_two_prospects_at_one_platform_company_make_a_colleagues_address_ambiguous(client, run_on_commit):
    ProspectFactory(email="cto@github.com")
    ProspectFactory(email="vp@github.com")
    assert identify(client, "colleague-0002", "jane@github.com", run_on_commit).prospect is None


def test_free_mail_is_never_an_employer(client, run_on_commit):
    ProspectFactory(email="founder@gmail.com")
    assert identify(client, "gmail-user-01", "someone@gmail.com", run_on_commit).prospect is None
