"""The consent and opt-out pages in a real browser: the one button's POST goes through (its Origin and
CSRF token are the page's own), is recorded with its proof, and the page says so in French."""

from urllib.parse import urlsplit

import pytest

from prospects.models import ConsentChange, Prospect
from tests.browser import browser_page
from tests.factories import ProspectFactory
from tracking.tokens import email_links_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_reader_grants_then_withdraws_consent_with_the_buttons_of_the_email_links(live_server):
    prospect = ProspectFactory(name="Camille Martin")
    links = email_links_for(prospect, message_id="relance-1")
    with browser_page(live_server.url) as page:
        page.goto(urlsplit(links.consent_url).path)
        page.get_by_role("button", name="Oui, vous pouvez suivre l'ouverture de mes emails").click()
        assert page.get_by_text("Votre accord est enregistré et s'applique dès maintenant").is_visible()
        assert page.get_by_role("link", name="Continuer vers notre page").is_visible()
        page.goto(urlsplit(links.optout_url).path)
        page.get_by_role("button", name="Ne plus me suivre").click()
        assert page.get_by_text("nous ne vous suivons plus").is_visible()
    history = list(ConsentChange.objects.values_list("state", "source", "network"))
    assert history == [("granted", "consent_link", "127.0.0.0/24"), ("refused", "optout_link", "127.0.0.0/24")]
    assert Prospect.objects.get().tracking_consent == "refused"
