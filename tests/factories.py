from datetime import datetime, timedelta

import factory
from django.utils import timezone

from alerts.outbox.models import Alert, AlertDelivery, SignalCooldown
from alerts.outcomes.models import Call, CallOutcome
from alerts.signals.models import DetectionRun, Signal
from core.models import SharedCounter
from prospects.models import ConsentState, Prospect
from tracking.models import CtaClick, EmailEvent, MatchMethod, VisitEvent, Visitor

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

    class Params:
        # A prospect who granted individual tracking (prospects/consent.py): the identifying pixel and,
        # under the strictest policy, the personal link. Without it the default policy counts opens only
        # in aggregate.
        consented = factory.Trait(tracking_consent=ConsentState.GRANTED)


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


class VisitorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visitor
        django_get_or_create = ("visitor_id",)

    visitor_id = factory.Sequence(lambda n: f"visitor{n:06d}")
    prospect = None
    match_method = factory.LazyAttribute(lambda o: MatchMethod.AK if o.prospect else "")
    matched_at = factory.LazyAttribute(lambda o: timezone.now() if o.prospect else None)


class AlertFactory(factory.django.DjangoModelFactory):
    """A sent CTA alert a few minutes old, by default."""

    class Meta:
        model = Alert

    prospect = factory.SubFactory(ProspectFactory)
    signal = Signal.CTA_CLICK
    dedup_key = factory.Sequence(lambda n: f"test-evidence-{n}")
    occurred_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=5))
    status = Alert.Status.SENT
    evidence = factory.LazyFunction(lambda: {"cta_id": "cta_reserver_audit"})
    message = "Clic CTA: appeler"


class AlertDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AlertDelivery

    alert = factory.SubFactory(AlertFactory)
    recipient = "+33199000001"
    status = AlertDelivery.Status.SENT


class CallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Call

    prospect = factory.SubFactory(ProspectFactory)
    outcome = CallOutcome.REACHED
    note = ""


class SignalCooldownFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SignalCooldown

    prospect = factory.SubFactory(ProspectFactory)
    signal = Signal.CTA_CLICK
    last_alerted_at = factory.LazyFunction(timezone.now)


class DetectionRunFactory(factory.django.DjangoModelFactory):
    """A finished detection run, by default just now."""

    class Meta:
        model = DetectionRun

    started_at = factory.LazyFunction(timezone.now)
    window_end = factory.LazyAttribute(lambda o: o.started_at)
    finished_at = factory.LazyAttribute(lambda o: o.started_at)


class SharedCounterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SharedCounter

    key = factory.Sequence(lambda n: f"test:counter:{n}")
    value = 1.0
    expires_at = factory.LazyFunction(lambda: timezone.now().timestamp() + 60)


def aware(*args) -> datetime:
    return timezone.make_aware(datetime(*args), timezone.get_fixed_timezone(0))
