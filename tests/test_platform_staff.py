"""Issue 18, point 8: a prospect who works at a platform company (cto@github.com) is matched through the
company's internal hosts (intranet.github.com, wiki.corp.github.com), never through the platform's public
ones (github.com, gist.github.com, docs.github.com) nor through sub-domains its users choose
(alice.medium.com). A colleague's address on the platform's domain is tested in test_platform_domains.py."""

import itertools
from pathlib import Path

import pytest

from prospects.domains import (
    INTERNAL_ZONE_LABELS,
    platform_domains,
    platform_of_staff_host,
    platforms_with_user_subdomains,
)
from tests.factories import ProspectFactory, VisitEventFactory
from tracking.matching import visitors_match
from tracking.models import Visitor

pytestmark = pytest.mark.django_db

_VISITORS = itertools.count()


def from_referrer(referrer: str) -> Visitor:
    """A new visitor whose page view came from this referrer, once matched."""
    visitor_id = f"staff-visitor-{next(_VISITORS):05d}"
    VisitEventFactory(visitor_id=visitor_id, referrer=referrer)
    visitors_match([visitor_id])
    return Visitor.objects.get(visitor_id=visitor_id)


INTERNAL = [
    ("cto@github.com", "https://intranet.github.com/teams/infra"),
    ("cto@github.com", "https://wiki.corp.github.com/oncall"),
    ("cto@github.com", "https://INTRANET.GitHub.com./"),
    ("vp@linkedin.com", "https://go.corp.linkedin.com/monitoring"),
    ("head.ops@gitlab.com", "https://internal.gitlab.com/"),
    ("cto@notion.so", "https://intra.notion.so/eng"),
    ("cto@calendly.com", "https://portal.intranet.calendly.com/news"),
    ("sre@google.com", "https://monitoring.corp.google.com/"),
]


@pytest.mark.parametrize(("email", "referrer"), INTERNAL)
def test_a_visitor_from_the_companys_internal_host_is_the_prospect_who_works_there(email, referrer):
    prospect = ProspectFactory(email=email)
    visitor = from_referrer(referrer)
    assert visitor.prospect == prospect and visitor.match_method == "referrer_domain"
    assert visitor.match_evidence == {"referrer": referrer, "domain": email.partition("@")[2]}
    assert referrer in visitor.match_evidence_sentence


PUBLIC = [
    ("cto@github.com", "https://github.com/acme/repo"),
    ("cto@github.com", "https://www.github.com/"),
    ("cto@github.com", "https://gist.github.com/someone/0123abcd"),
    ("cto@github.com", "https://docs.github.com/en/actions"),
    ("cto@github.com", "https://education.github.com/"),
    ("cto@github.com", "https://acme.github.io/intranet/"),  # GitHub Pages: another registrable domain
    ("vp@linkedin.com", "https://www.linkedin.com/feed/"),
    ("vp@linkedin.com", "https://fr.linkedin.com/in/someone"),
    ("vp@linkedin.com", "https://engineering.linkedin.com/blog"),
    ("cto@notion.so", "https://www.notion.so/acme/Wiki-0123"),
    ("cto@calendly.com", "https://calendly.com/someone/30min"),
    ("cto@calendly.com", "https://app.calendly.com/event_types"),
    ("sre@google.com", "https://mail.google.com/"),
    ("sre@google.com", "https://docs.google.com/document/d/0123"),
    ("sre@google.com", "https://sites.google.com/view/corp"),  # "corp" in the path, not the host
    # Where people share links: whoever was sent it clicks through from the app.
    ("cto@slack.com", "https://app.slack.com/client/T0123/C0456"),
    ("cto@microsoft.com", "https://teams.microsoft.com/l/message/0123"),
    ("cto@microsoft.com", "https://outlook.office.com/mail/inbox"),
    ("cto@zoom.us", "https://app.zoom.us/wc/home"),
    ("cto@discord.com", "https://discord.com/channels/0123/0456"),
    ("cto@reddit.com", "https://www.reddit.com/r/devops/"),
    ("cto@ycombinator.com", "https://news.ycombinator.com/item?id=1"),
    ("cto@whatsapp.com", "https://web.whatsapp.com/"),
]


@pytest.mark.parametrize(("email", "referrer"), PUBLIC)
def test_a_visitor_from_the_platforms_public_hosts_matches_nobody(email, referrer):
    ProspectFactory(email=email)
    assert from_referrer(referrer).prospect is None


USER_CHOSEN = [
    ("cto@medium.com", "https://alice.medium.com/why-we-monitor"),
    ("cto@medium.com", "https://intranet.medium.com/"),  # anyone can name their blog "intranet"
    ("cto@medium.com", "https://medium.com/@alice"),
    ("cto@substack.com", "https://corp.substack.com/p/news"),
    ("cto@wordpress.com", "https://internal.wordpress.com/"),
    ("cto@hashnode.dev", "https://intra.hashnode.dev/"),
    ("cto@squarespace.com", "https://intranet.squarespace.com/"),
    ("cto@slack.com", "https://intranet.slack.com/"),  # a workspace anyone can name
    ("cto@zoom.us", "https://corp.zoom.us/j/0123"),  # a company's vanity host
]


@pytest.mark.parametrize(("email", "referrer"), USER_CHOSEN)
def test_a_sub_domain_that_the_platforms_users_choose_matches_nobody(email, referrer):
    ProspectFactory(email=email)
    assert from_referrer(referrer).prospect is None


def test_a_platform_where_no_prospect_works_matches_nobody():
    ProspectFactory(email="cto@github.com")
    ProspectFactory(email="founder@gmail.com", website="https://gitlab.com/acme")  # a page, not a job there
    ProspectFactory(email="cto@acme-corp.example", website="https://www.linkedin.com/company/acme")
    for referrer in ["https://intranet.gitlab.com/", "https://go.corp.linkedin.com/", "https://corp.google.com/"]:
        assert from_referrer(referrer).prospect is None


def test_a_look_alike_of_an_internal_host_matches_nobody():
    ProspectFactory(email="cto@github.com")
    for referrer in [
        "https://intranet.github.com.evil.example/",
        "https://intranet-github.com/",
        "https://github.com.corp.example/",
        "https://corpgithub.com/",
    ]:
        assert from_referrer(referrer).prospect is None


def test_two_prospects_at_one_platform_company_make_its_internal_host_ambiguous():
    ProspectFactory(email="cto@github.com")
    ProspectFactory(email="vp.eng@github.com")
    assert from_referrer("https://intranet.github.com/").prospect is None


def test_a_stronger_hint_still_wins_over_the_internal_host():
    ProspectFactory(email="cto@github.com")
    reader = ProspectFactory(email="someone@acme-corp.example")
    VisitEventFactory(visitor_id="staff-with-link", referrer="https://intranet.github.com/", ak=reader.identity_token)
    visitors_match(["staff-with-link"])
    visitor = Visitor.objects.get(visitor_id="staff-with-link")
    assert visitor.prospect == reader and visitor.match_method == "ak"


@pytest.mark.parametrize(
    "referrer",
    [
        "https://www.initech.example/pricing",
        "https://initech.example/",
        "https://intranet.initech.example/wiki",
        "https://docs.initech.example/",
        "https://gist.initech.example/",
        "https://alice.blog.initech.example/",
    ],
)
def test_a_normal_companys_every_sub_domain_still_matches_its_prospect(referrer):
    prospect = ProspectFactory(email="cto@initech.example")
    visitor = from_referrer(referrer)
    assert visitor.prospect == prospect and visitor.match_method == "referrer_domain"


@pytest.mark.parametrize(
    ("host", "platform"),
    [
        ("intranet.github.com", "github.com"),
        ("a.b.corp.github.com", "github.com"),
        ("www.intranet.github.com", "github.com"),
        ("github.com", None),
        ("www.github.com", None),
        ("gist.github.com", None),
        ("corpgithub.github.com", None),  # a label is an internal zone only when it is one, whole
        ("intranet.medium.com", None),
        ("intranet.facebook.com", None),  # free mail as well: its staff are never matched
        ("intranet.initech.example", None),  # not a platform: its company domain does the work
        ("intranet.acme.github.io", None),
        ("", None),
        ("intranet", None),
    ],
)
def test_which_hosts_are_a_platform_staffs_own(host, platform):
    assert platform_of_staff_host(host) == platform


def test_the_internal_zone_labels_are_the_documented_ones():
    assert INTERNAL_ZONE_LABELS == {"corp", "internal", "intra", "intranet"}
    assert {"medium.com", "substack.com", "wordpress.com"} <= platforms_with_user_subdomains()


def test_the_matching_docs_name_which_platforms_internal_hosts_identify_their_staff():
    """docs/how-it-works.md says exactly which platforms' sub-domains can identify their staff."""
    root = Path(__file__).resolve().parent.parent
    docs = (root / "docs" / "how-it-works.md").read_text()
    which = docs[docs.index("Which platforms' sub-domains can identify their staff") :]
    counted, excepted = which.split("**except**", 1)
    excepted = excepted[: excepted.index("\n\n")]
    for platform in platform_domains():
        if platform in platforms_with_user_subdomains():
            assert f"`{platform}`" in excepted and f"`{platform}`" not in counted, platform
        else:
            assert f"`{platform}`" in counted, platform
