from datetime import datetime

import factory
from django.utils import timezone

from prospects.models import Prospect
from tracking.models import CtaClick, EmailEvent, VisitEvent

BROWSER_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)


class ProspectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prospect

    name = factory.Faker("name", locale="fr_FR")
    email = factory.Sequence(lambda n: f"cto{n}@company{n}.example")
    company = factory.Sequence(lambda n: f"Company {n}")
    title = "CTO"
    pain_point = "Alertes trop tardives"
    phone = "+33199001234"


class VisitEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VisitEvent

    visitor_id = factory.Sequence(lambda n: f"visitor{n:06d}")
    page_view_id = factory.Sequence(lambda n: f"pageview{n:06d}")
    page = "/audit-gratuit-monitoring.html"
    event = VisitEvent.Kind.HEARTBEAT
    received_at = factory.LazyFunction(timezone.now)
    user_agent = BROWSER_UA


class CtaClickFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CtaClick

    visitor_id = factory.Sequence(lambda n: f"visitor{n:06d}")
    page_view_id = factory.Sequence(lambda n: f"pageview{n:06d}")
    page = "/audit-gratuit-monitoring.html"
    cta_id = "cta_reserver_audit"
    received_at = factory.LazyFunction(timezone.now)
    user_agent = BROWSER_UA


class EmailEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailEvent

    prospect = factory.SubFactory(ProspectFactory)
    message_id = factory.Sequence(lambda n: f"<msg{n}@mail.example>")
    event = EmailEvent.Kind.SENT
    occurred_at = factory.LazyFunction(timezone.now)
    received_at = factory.LazyAttribute(lambda o: o.occurred_at)


def aware(*args) -> datetime:
    return timezone.make_aware(datetime(*args), timezone.get_fixed_timezone(0))
