"""The SMS text: who to call and why, in SMS_MAX_SEGMENTS GSM-7 segments (one by default), in LANGUAGE_CODE.

Parts, most useful first: the signal (alerts/signals/evidence.py's sentence), the number to call, the short
link to the lead, the name, the company, the pain point. When the text is too long the least useful
parts are shortened first.
"""

from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from alerts.outbox.gsm import gsm7_segments, gsm7_units, segment_budget, to_gsm7, truncate_to_segments, truncate_units
from alerts.outbox.models import Alert
from alerts.signals.evidence import evidence_sentence, meeting_predicate, reply_predicate
from core.display import phone_display, website_label
from prospects.models import Prospect
from tracking.models import Identification


def lead_short_url(alert_id: int) -> str:
    return settings.PUBLIC_BASE_URL + reverse("lead-short-link", args=[alert_id])


def reach_text(number: str, email: str, website: str) -> str:
    """How to reach the lead in the fewest characters: "Call +33 1 99 00 12 34", else the email
    address alone (a phone opens it), else the website or LinkedIn page."""
    if number:
        return _("Call %(phone)s") % {"phone": number}
    return email or website_label(website) or _("No way to reach them on file")


def compose_alert_sms(
    *,
    signal: str,
    evidence: dict,
    name: str,
    company: str,
    phone: str,
    pain_point: str,
    alert_id: int | None,
    unverified: bool = False,
    email: str = "",
    website: str = "",
) -> str:
    """`unverified`: the visitor was identified by what it said (an email, a domain, a referrer, an IP
    rule), not by a personal link: the SMS says so in a few characters, right after the signal."""
    with translation.override(settings.LANGUAGE_CODE):
        summary = evidence_sentence(signal, evidence, unverified=unverified)
        mark = f" ({_('unverified')})" if unverified else ""
        head = to_gsm7(summary + mark)
        # A booking reads name first, as the founder would say it: "Jean Dupont (Acme) a pris RDV jeudi 10:00".
        # A reply too: "Jean Dupont (Acme) a répondu : « Oui, appelez-moi jeudi »".
        predicates = {"meeting_booked": meeting_predicate, "email_reply": reply_predicate}
        predicate = to_gsm7(predicates[signal](evidence) + mark) if signal in predicates else ""
        # Grouped for reading, international so that it dials from anywhere: "+33 1 99 00 12 34".
        number = phone_display(phone, international=True)
        call = to_gsm7(reach_text(number, email, website))
    link = lead_short_url(alert_id) if alert_id else ""
    if not (name or company) and number:
        name = email  # who it is, when the list knows them only by email (without a phone, `call` is the email)
    return fit_lead_sms(
        head=head, predicate=predicate, call=call, name=name, company=company, pain=pain_point, link=link
    )


def fit_lead_sms(
    *, head: str, call: str, name: str, company: str, pain: str, link: str, predicate: str = "", prefix: str = ""
) -> str:
    """ "<prefix><head>: <name> (<company>). <call>. <pain>. <link>" in SMS_MAX_SEGMENTS GSM-7 segments,
    the least useful parts shortened first (pain point, company, name): the number to call and the
    link are the last to go, and only when nothing else is left to cut."""
    segments = settings.SMS_MAX_SEGMENTS
    # As operators count: one part carries 160 units, each of N linked parts 153 (alerts/outbox/gsm.py).
    budget = segment_budget(segments)
    name, company, pain = to_gsm7(name), to_gsm7(company), to_gsm7(pain)

    def render(name: str, company: str, pain: str, link: str) -> str:
        who = name + (f" ({company})" if company else "")
        if predicate:
            parts = [f"{who} {predicate}" if who else head, call]
        else:
            parts = [f"{head}: {who}" if who else head, call]
        if pain:
            parts.append(pain)
        if link:
            parts.append(link)
        # "trop... https://" rather than "trop.... https://": a shortened part already ends its sentence.
        return "".join(
            (part if i == 0 else (" " if parts[i - 1].endswith("...") else ". ") + part) for i, part in enumerate(parts)
        )

    text = render(name, company, pain, link)
    # Shorten the least useful first: pain point, then company, then name; the link goes last.
    for field in ("pain", "company", "name", "link"):
        overflow = gsm7_units(prefix + text) - budget
        if overflow <= 0 and gsm7_segments(prefix + text) <= segments:
            return prefix + text
        if overflow <= 0:  # within the units, but an escaped character straddles two parts
            overflow = segments - 1  # at most a unit lost per boundary
        values = {"name": name, "company": company, "pain": pain, "link": link}
        current = values[field]
        floor = {"pain": 12, "company": 10, "name": 12, "link": 0}[field]
        keep = gsm7_units(current) - overflow
        # A shortened text ends with "..." (GSM-7: "…" is not in the alphabet): the founder reads that a
        # word is missing rather than a different, shorter sentence.
        cut = truncate_units(current, keep - 3) + "..." if keep - 3 >= floor else ""
        values[field] = cut if field != "link" else ""
        name, company, pain, link = values["name"], values["company"], values["pain"], values["link"]
        text = render(name, company, pain, link)
    return truncate_to_segments(truncate_units(prefix + text, segment_budget(segments)), segments)


def compose_alert_rich(*, alert: Alert, sms_not_received: bool = False) -> tuple[str, str]:
    """(title, body) for a rich channel (Telegram, Slack, email…): the whole lead, not one segment —
    the signal and its evidence, the number to call, pain point, call script, the link to the lead."""
    prospect = alert.prospect
    with translation.override(settings.LANGUAGE_CODE):
        unverified = alert.identification == Identification.UNVERIFIED
        summary = evidence_sentence(alert.signal, alert.evidence, unverified=unverified)
        if unverified:
            summary += f" ({_('unverified')})"
        who = prospect.name or prospect.email
        title = f"ArkWatch — {summary}: {who}" + (f" ({prospect.company})" if prospect.company else "")
        lines = []
        if sms_not_received:
            lines.append(
                _("The SMS about this lead was not received by the phone after %(minutes)s minutes.")
                % {"minutes": settings.SMS_RECEIPT_TIMEOUT_MINUTES}
            )
        number = phone_display(prospect.phone, international=True)
        lines.append(reach_text(number, prospect.email, prospect.website))
        if prospect.title:
            lines.append(prospect.title)
        if prospect.pain_point:
            lines.append(_("Pain point: %(pain)s") % {"pain": prospect.pain_point})
        if prospect.call_script:
            lines.append(_("Call script: %(script)s") % {"script": prospect.call_script})
        lines.append(lead_short_url(alert.pk))
    return title, "\n".join(lines)


def reminder_text(alert: Alert) -> str:
    """The alert's SMS again, prefixed "Rappel, personne n'a encore appelé : ", with the lead's number and
    link kept whole (docs/how-it-works.md): the pain point, company and name give way first. Written
    from the alert and its prospect, so every retry sends the same words."""
    prospect = alert.prospect
    with translation.override(settings.LANGUAGE_CODE):
        prefix = to_gsm7(_("Reminder, nobody called yet: %(message)s") % {"message": "x"})[:-1]
        summary = evidence_sentence(alert.signal, alert.evidence)
        mark = f" ({_('unverified')})" if alert.identification == Identification.UNVERIFIED else ""
        number = phone_display(prospect.phone, international=True)
        call = to_gsm7(reach_text(number, prospect.email, prospect.website))
        predicate = to_gsm7(meeting_predicate(alert.evidence) + mark) if alert.signal == "meeting_booked" else ""
    name = prospect.name or ("" if prospect.company or not number else prospect.email)
    return fit_lead_sms(
        prefix=prefix,
        head=to_gsm7(summary + mark),
        predicate=predicate,
        call=call,
        name=name,
        company=prospect.company,
        pain=prospect.pain_point,
        link=lead_short_url(alert.pk),
    )


def compose_callback_sms(*, prospect: Prospect, callback_at: datetime, note: str = "") -> str:
    """The call-back's SMS, at its time: "Rappel prévu 10:00 : Jean Dupont (Acme). Appeler +33 1 99 00 12
    34. <note>. <link to the prospect's page>" — the number and the link kept whole."""
    with translation.override(settings.LANGUAGE_CODE):
        head = to_gsm7(_("Call-back due %(time)s") % {"time": f"{timezone.localtime(callback_at):%H:%M}"})
        number = phone_display(prospect.phone, international=True)
        call = to_gsm7(reach_text(number, prospect.email, prospect.website))
    link = settings.PUBLIC_BASE_URL + reverse("backoffice-timeline", args=[prospect.pk])
    name = prospect.name or ("" if prospect.company or not number else prospect.email)
    return fit_lead_sms(head=head, call=call, name=name, company=prospect.company, pain=note, link=link)
