import pytest
from django.db import IntegrityError, transaction

from prospects.models import Prospect
from tests.factories import ProspectFactory

pytestmark = pytest.mark.django_db


def test_email_is_unique_whatever_its_case():
    ProspectFactory(email="cto@acme.example")
    with pytest.raises(IntegrityError), transaction.atomic():
        Prospect.objects.create(email="CTO@acme.example")


def test_the_database_refuses_a_phone_that_is_not_e164():
    prospect = ProspectFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Prospect.objects.filter(pk=prospect.pk).update(phone="06 12")


def test_the_database_refuses_an_unknown_status():
    prospect = ProspectFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Prospect.objects.filter(pk=prospect.pk).update(status="maybe")


def test_each_prospect_gets_its_own_unguessable_token():
    tokens = {ProspectFactory().identity_token for _ in range(20)}
    assert len(tokens) == 20 and all(len(t) >= 20 for t in tokens)


def test_company_domains_come_from_email_website_and_extra_domains_but_not_free_mail():
    p = ProspectFactory(
        email="lea@orange.fr", website="https://blog.studio-demo.example/x", extra_domains="wiki.initech-tools.com"
    )
    assert p.domain_list == ["studio-demo.example", "initech-tools.com"]
    p = ProspectFactory(email="paul@sub.acme.co.uk")
    assert p.domain_list == ["acme.co.uk"]
