"""SMS about several alerts rather than one lead: the held-alerts notice, the hourly summary and the
morning digest.

- Held: unverified signals for two or more prospects from one client network within an hour look like
  someone typing in prospects' domains. Those alerts wait on the hot-leads page; one SMS per hour says
  how many wait. It leaves a minute after the first hold, so that it counts the whole burst.
- Summary: past ALERT_SMS_MAX_PER_HOUR single-lead SMS in a clock hour, further alerts are grouped;
  one SMS at the end of that hour lists them. Nothing is dropped: every alert stays on the hot-leads page.
- Digest: a signal inside quiet hours (alerts/outbox/quiet.py) texts nobody then; one SMS (and a message to
  each channel) when they end lists who to call first, strongest and most recent first, with the link
  to the hot leads.

Each notice is one row per (kind, hour), created with its deliveries by the outbox
(alerts/outbox/delivery.py `notice_schedule`): whatever the number of workers, one notice, one delivery per
recipient. Its text is written here when its first SMS leaves, so it counts what happened until then.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from alerts.outbox.gsm import gsm7_units, segment_budget, to_gsm7, truncate_units
from alerts.outbox.models import Alert, SmsNotice
from alerts.signals.models import Signal
from prospects.models import Prospect
from tracking.models import Identification

SIGNAL_SHORT = {
    Signal.PAGE_DWELL: gettext_lazy("read"),
    Signal.CTA_CLICK: gettext_lazy("click"),
    Signal.EMAIL_REOPEN: gettext_lazy("email"),
    Signal.MEETING_BOOKED: gettext_lazy("meeting"),
    Signal.EMAIL_REPLY: gettext_lazy("reply"),
}


def hour_of(moment: datetime) -> datetime:
    return timezone.localtime(moment).replace(minute=0, second=0, microsecond=0)


def _hot_leads_url() -> str:
    return settings.PUBLIC_BASE_URL + reverse("backoffice-hot-leads")


# Who to call first in the digest: the strongest signal, then a verified identity, then the newest.
# A person who answered the email is the hottest lead short of a booking.
SIGNAL_STRENGTH = {
    Signal.MEETING_BOOKED: 5,
    Signal.EMAIL_REPLY: 4,
    Signal.CTA_CLICK: 3,
    Signal.PAGE_DWELL: 2,
    Signal.EMAIL_REOPEN: 1,
}


def digest_alerts(notice: SmsNotice) -> list[Alert]:
    """The alerts quiet hours kept for this digest, one per prospect (its strongest, newest), strongest
    and most recent first. The period runs from the previous digest's end to this one's."""
    previous = (
        SmsNotice.objects.filter(kind=SmsNotice.Kind.DIGEST, period_start__lt=notice.period_start)
        .order_by("-period_start")
        .values_list("period_start", flat=True)
        .first()
    )
    # A prospect who said stop during the night (an unsubscribe) is in no digest: the digest is an SMS.
    quiet = Alert.objects.filter(status=Alert.Status.QUIET, detected_at__lte=notice.period_start).exclude(
        prospect__status=Prospect.Status.DO_NOT_CONTACT
    )
    if previous:
        quiet = quiet.filter(detected_at__gt=previous)
    best: dict[int, Alert] = {}
    for alert in quiet.select_related("prospect").order_by("detected_at", "pk"):
        if alert.prospect_id not in best or lead_rank(alert) > lead_rank(best[alert.prospect_id]):
            best[alert.prospect_id] = alert
    return sorted(best.values(), key=lead_rank, reverse=True)


def lead_rank(alert: Alert) -> tuple[int, int, float]:
    """Who to call first: the strongest signal, then a verified identity, then the newest. Equal ranks
    keep the order they are given in (sorted() is stable), so callers pass a deterministic one."""
    verified = alert.identification != Identification.UNVERIFIED
    return SIGNAL_STRENGTH.get(Signal(alert.signal), 0), int(verified), alert.occurred_at.timestamp()


def _digest_text(notice: SmsNotice, budget: int, link: str) -> str:
    alerts = digest_alerts(notice)
    text = ngettext(
        "ArkWatch, during quiet hours: %(count)d lead to call",
        "ArkWatch, during quiet hours: %(count)d leads to call",
        len(alerts),
    ) % {"count": len(alerts)}
    return _with_names(text, alerts, budget, link)


def _lead_variants(alert: Alert) -> list[str]:
    """One lead of a digest or summary, fullest first: who, their company, the signal, the number to
    call (E.164, which a phone dials from the SMS); then shorter forms for when room runs out."""
    prospect = alert.prospect
    who = to_gsm7(prospect.name or prospect.email)
    signal = str(SIGNAL_SHORT.get(Signal(alert.signal), ""))
    company = to_gsm7(prospect.company)
    number = f" {prospect.phone}" if prospect.phone else ""
    variants = [f"{who} ({company}, {signal}){number}" if company else f"{who} ({signal}){number}"]
    if number:
        variants.append(f"{who} ({signal}){number}")
    variants.append(f"{who} ({signal})")
    return variants


def _listing(alerts: list[Alert], room: int) -> str:
    """The strongest lead with its company and number (the founder can call from the SMS), then as many
    others as fit by name, then — strongest first — their company and number as room allows; "+N" for
    the leads left to the link."""
    variants = [_lead_variants(alert) for alert in alerts]

    def text(chosen: list[str]) -> str:
        rest = len(alerts) - len(chosen)
        return ", ".join(chosen + ([f"+{rest}"] if rest else []))

    chosen: list[str] = []
    first = next((option for option in variants[0] if gsm7_units(text([option])) <= room), None) if variants else None
    if first is not None:
        chosen.append(first)
    for options in variants[len(chosen) :]:
        if gsm7_units(text([*chosen, options[-1]])) > room:
            break
        chosen.append(options[-1])
    for index, options in enumerate(variants[: len(chosen)]):
        for fuller in options[:-1]:
            trial = [*chosen[:index], fuller, *chosen[index + 1 :]]
            if gsm7_units(text(trial)) <= room:
                chosen = trial
                break
    return text(chosen) if chosen else ""


def _with_names(text: str, alerts: list[Alert], budget: int, link: str) -> str:
    """`text`, then as many of the alerts' leads as fit before the link — strongest first, with their
    company and number as room allows — in the active language's typography: French puts a space before
    the colon ("à appeler : Jean"). A plain space: the no-break ones (U+00A0, U+202F) are not GSM-7 and
    would turn the whole SMS into UCS-2, 70 characters a segment (alerts/outbox/gsm.py)."""
    head, listing = to_gsm7(text), _("%(what)s: %(names)s")
    # The separator's cost, measured between two one-letter stand-ins (to_gsm7 trims the ends' spaces).
    separator = gsm7_units(to_gsm7(listing % {"what": "a", "names": "b"})) - 2
    room = budget - gsm7_units(head) - separator - len(link) - 2
    names = _listing(alerts, room) if room > 10 else ""
    if names:
        head = to_gsm7(listing % {"what": head, "names": names})
    return truncate_units(head, budget - len(link) - 2) + ". " + link


def notice_title(notice: SmsNotice) -> str:
    """The title of a notice sent to a rich channel."""
    with translation.override(settings.LANGUAGE_CODE):
        return f"ArkWatch — {notice.get_kind_display()}"


def _notice_text_now(notice: SmsNotice) -> str:
    budget = segment_budget(settings.SMS_MAX_SEGMENTS)
    link = _hot_leads_url()
    period_end = notice.period_start + timedelta(hours=1)
    with translation.override(settings.LANGUAGE_CODE):
        if notice.kind == SmsNotice.Kind.DIGEST:
            return _digest_text(notice, budget, link)
        if notice.kind == SmsNotice.Kind.HELD:
            count = Alert.objects.filter(status=Alert.Status.HELD).count()
            text = ngettext(
                "ArkWatch: %(count)d alert held: unverified signals for several prospects within an hour",
                "ArkWatch: %(count)d alerts held: unverified signals for several prospects within an hour",
                count,
            ) % {"count": count}
        else:
            # Strongest first, as the digest; equal ones in the order they came (a tie broken by the
            # database's whim once put another lead first on PostgreSQL than on SQLite).
            grouped = sorted(
                Alert.objects.filter(
                    status=Alert.Status.GROUPED, detected_at__gte=notice.period_start, detected_at__lt=period_end
                )
                .exclude(prospect__status=Prospect.Status.DO_NOT_CONTACT)
                .select_related("prospect")
                .order_by("detected_at", "pk"),
                key=lead_rank,
                reverse=True,
            )
            text = ngettext(
                "ArkWatch: %(count)d more signal %(start)s-%(end)s (over %(max)d SMS/h)",
                "ArkWatch: %(count)d more signals %(start)s-%(end)s (over %(max)d SMS/h)",
                len(grouped),
            ) % {
                "count": len(grouped),
                "start": f"{timezone.localtime(notice.period_start):%H}h",
                "end": f"{timezone.localtime(period_end):%H}h",
                "max": settings.ALERT_SMS_MAX_PER_HOUR,
            }
            return _with_names(text, grouped, budget, link)
    return truncate_units(to_gsm7(text), budget - len(link) - 2) + ". " + link


def notice_text(notice: SmsNotice) -> str:
    """The notice's SMS, written once (conditional UPDATE: a retry re-sends the same words, which the
    "already sent?" tag check relies on)."""
    if not notice.message:
        with transaction.atomic():
            written = SmsNotice.objects.filter(pk=notice.pk, message="").update(message=_notice_text_now(notice))
            if written and notice.kind == SmsNotice.Kind.DIGEST:
                # The leads it names are the ones the founder was told about (the ledger reads it).
                Alert.objects.filter(pk__in=[a.pk for a in digest_alerts(notice)]).update(digest=notice)
        notice.refresh_from_db(fields=["message"])
    return notice.message
