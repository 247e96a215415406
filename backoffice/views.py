"""Back-office pages inside the admin: hot leads, funnel, unmatched hot visitors, prospect timeline,
and the short link of an SMS.

Thin views: a permission check, the page's reads (backoffice/<page>.py), a template; writes go through
alerts.outcomes.calls / tracking.matching.
"""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from alerts.outbox.actions import alert_dismiss, alert_failure_acknowledge, alert_release, alert_resend
from alerts.outbox.models import Alert
from alerts.outcomes.calls import call_record
from alerts.outcomes.ledger import SMS_REPLY_OPENER, LedgerRow, Rate, ledger
from alerts.outcomes.models import CallOutcome
from backoffice.funnel import funnel, funnel_period
from backoffice.hot_leads import hot_leads, opener_for
from backoffice.reach import blocked_tracker_context
from backoffice.timeline import prospect_call_sheet, prospect_email_links, prospect_timeline
from backoffice.unmatched import unmatched_hot_visitors
from core.admin import may_read_identity_tokens
from core.display import moment_display
from prospects.models import Prospect
from tracking.matching import visitor_link_by_hand
from tracking.meetings_by_hand import meeting_mark
from tracking.models import Meeting, Visitor

# How often the hot-leads page asks for new leads: a CTA is texted within a second, the page follows soon.
POLL_SECONDS = 15


def _require(request: HttpRequest, *perms: str) -> User:
    """The signed-in user holding these permissions, or 403."""
    user = request.user
    if not isinstance(user, User) or not user.has_perms(perms):
        raise PermissionDenied
    return user


def _context(request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    return {**admin.site.each_context(request), "title": title, **extra}


@require_safe
def hot_leads_page(request: HttpRequest) -> HttpResponse:
    _require(request, "alerts.view_alert")
    leads = hot_leads()
    return render(
        request,
        "admin/backoffice/hot_leads.html",
        _context(
            request,
            _("Hot leads"),
            leads=leads,
            outcomes=CallOutcome.choices,
            poll_seconds=POLL_SECONDS,
            can_call=request.user.has_perm("alerts.add_call"),
            can_edit_openers=request.user.has_perm("backoffice.change_callopener"),
            **blocked_tracker_context(),
        ),
    )


def hot_leads_json(request: HttpRequest) -> JsonResponse:
    """The polling endpoint: each lead's info block and a version, so the page replaces only what
    changed and never the call form someone is typing in; how long each lead has waited is sent apart,
    since it changes every minute."""
    _require(request, "alerts.view_alert")
    leads = [
        {
            "id": lead.prospect.pk,
            "version": lead.version,
            "state": lead.state,
            "html": render_to_string("admin/backoffice/_lead_info.html", {"lead": lead}, request=request),
            "waited": render_to_string("admin/backoffice/_waited.html", {"lead": lead}, request=request).strip(),
        }
        for lead in hot_leads()
    ]
    return JsonResponse({"leads": leads, "generated_at": timezone.now().isoformat()})


def _moment(value: str) -> datetime | None:
    """A datetime-local field ("2026-12-10T10:00"), in TIME_ZONE; None when empty or not a date."""
    try:
        moment = parse_datetime(value.strip())
    except ValueError:
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


@require_POST
def record_call(request: HttpRequest, prospect_id: int) -> HttpResponse:
    caller = _require(request, "alerts.add_call")
    prospect = get_object_or_404(Prospect, pk=prospect_id)
    outcome = request.POST.get("outcome", "")
    callback_at = _moment(request.POST.get("callback_at", ""))
    meeting_at = _moment(request.POST.get("meeting_at", ""))
    if outcome not in CallOutcome.values:
        messages.error(request, _("Choose the outcome of the call."))
    elif request.POST.get("callback_at", "").strip() and callback_at is None:
        messages.error(request, _("The call-back time is not a date and time: nothing was recorded."))
    elif outcome == CallOutcome.MEETING_BOOKED and meeting_at is None:
        messages.error(request, _("Give the meeting's date and time with “Meeting booked”: nothing was recorded."))
    else:
        call_record(
            prospect=prospect,
            user=caller,
            outcome=outcome,
            note=request.POST.get("note", "")[:5000],
            opener=opener_for(prospect),
            callback_at=callback_at,
            meeting_at=meeting_at,
        )
        done = _("Call with %(who)s recorded.") % {"who": prospect}
        if callback_at:
            done += " " + _("Call-back on %(when)s: you will be texted then.") % {"when": moment_display(callback_at)}
        messages.success(request, done)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("backoffice-hot-leads")  # never an open redirect
    return redirect(target)


# What staff can do with one alert from the hot-leads page: the service, and what to say when done.
ALERT_ACTIONS = {
    "resend": (alert_resend, gettext_lazy("SMS sent again (checked with the provider first: never twice).")),
    "acknowledge": (alert_failure_acknowledge, gettext_lazy("Failure acknowledged.")),
    "release": (alert_release, gettext_lazy("Alert released: the SMS is on its way.")),
    "dismiss": (alert_dismiss, gettext_lazy("Alert dismissed: nobody will be texted.")),
}


@require_POST
def alert_action(request: HttpRequest, alert_id: int) -> HttpResponse:
    _require(request, "alerts.add_call")  # whoever calls the leads handles their alerts
    alert = get_object_or_404(Alert, pk=alert_id)
    action = ALERT_ACTIONS.get(request.POST.get("action", ""))
    if action is None:
        messages.error(request, _("Unknown action."))
    elif action[0](alert=alert):
        messages.success(request, str(action[1]))
    else:
        messages.warning(request, _("Nothing to do: the alert has changed meanwhile."))
    return redirect("backoffice-hot-leads")


FUNNEL_SCALE = 480  # px of a 100 % conversion bar


def funnel_page(request: HttpRequest) -> HttpResponse:
    _require(request, "alerts.view_alert")
    today = timezone.localdate()
    start, end, period_problem = funnel_period(request.GET.get("start", ""), request.GET.get("end", ""), today=today)
    result = funnel(start, end)
    # The chart carries what the table does not: the conversion between two steps (0-100 %) and, as a
    # line on each bar, the same conversion over the period before.
    transitions = [
        {
            "above": above,
            "step": step,
            "width": round(FUNNEL_SCALE * (step.rate or 0)),
            "mark": None if step.previous_rate is None else round(FUNNEL_SCALE * step.previous_rate),
            "y": 6 + i * 48,
        }
        for i, (above, step) in enumerate(zip(result.steps, result.steps[1:], strict=False))
    ]
    length = end - start + timedelta(days=1)
    presets = [
        (label, today - timedelta(days=days - 1), today)
        for label, days in [(_("7 days"), 7), (_("30 days"), 30), (_("90 days"), 90)]
    ]
    return render(
        request,
        "admin/backoffice/funnel.html",
        _context(
            request,
            _("Funnel"),
            funnel=result,
            transitions=transitions,
            scale=FUNNEL_SCALE,
            chart_height=10 + len(transitions) * 48,
            previous_start=start - length,
            previous_end=start - timedelta(days=1),
            presets=presets,
            start=start,
            end=end,
            period_problem=period_problem,
        ),
    )


LEDGER_COLUMNS = [
    ("sms_sent", gettext_lazy("SMS sent"), gettext_lazy("of the signals")),
    ("called", gettext_lazy("Called"), gettext_lazy("of the SMS")),
    ("reached", gettext_lazy("Reached"), gettext_lazy("of the calls")),
    ("meetings_booked", gettext_lazy("Meetings booked"), gettext_lazy("of the SMS")),
    ("meetings_held", gettext_lazy("Meetings held"), gettext_lazy("of the meetings")),
    ("false_alarms", gettext_lazy("False alarms"), gettext_lazy("of the SMS")),
]
OPENER_COLUMNS = [
    ("reached", gettext_lazy("Reached"), gettext_lazy("of the calls")),
    ("meetings_booked", gettext_lazy("Meetings booked"), gettext_lazy("of the calls")),
    ("meetings_held", gettext_lazy("Meetings held"), gettext_lazy("of the meetings")),
    ("false_alarms", gettext_lazy("False alarms"), gettext_lazy("of the replies")),
]


def _cells(row: LedgerRow, columns: list[tuple[str, Any, Any]]) -> list[Rate]:
    return [getattr(row, name) for name, _label, _of in columns]


def ledger_page(request: HttpRequest) -> HttpResponse:
    _require(request, "alerts.view_alert")
    result = ledger()
    return render(
        request,
        "admin/backoffice/ledger.html",
        _context(
            request,
            _("From signal to meeting"),
            ledger=result,
            columns=LEDGER_COLUMNS,
            opener_columns=OPENER_COLUMNS,
            signal_rows=[(row, _cells(row, LEDGER_COLUMNS)) for row in result.by_signal],
            total_cells=_cells(result.total, LEDGER_COLUMNS) if result.total else [],
            opener_rows=[(row, _cells(row, OPENER_COLUMNS)) for row in result.by_opener],
            sms_reply_opener=SMS_REPLY_OPENER,
            min_n=settings.LEDGER_MIN_N,
            window_days=settings.LEDGER_WINDOW_DAYS,
        ),
    )


def unmatched_page(request: HttpRequest) -> HttpResponse:
    _require(request, "tracking.view_visitor")
    can_link = request.user.has_perm("tracking.change_visitor")
    if request.method == "POST":
        if not can_link:
            raise PermissionDenied
        visitor, _created = Visitor.objects.get_or_create(visitor_id=request.POST.get("visitor_id", "")[:128])
        prospect = Prospect.objects.filter(pk=request.POST.get("prospect") or 0).first()
        if prospect is None:
            messages.error(request, _("Choose a prospect."))
        else:
            visitor_link_by_hand(visitor=visitor, prospect=prospect, user=request.user)
            messages.success(
                request, _("Visitor linked to %(who)s; detection is reconsidering its events.") % {"who": prospect}
            )
        return redirect("backoffice-unmatched")
    return render(
        request,
        "admin/backoffice/unmatched.html",
        _context(
            request,
            _("Unmatched hot visitors"),
            visitors=unmatched_hot_visitors(),
            dwell_seconds=settings.SIGNAL_DWELL_SECONDS,
            can_link=can_link,
            prospects=Prospect.objects.order_by("company", "name").only("pk", "name", "company", "email"),
        ),
    )


def timeline_page(request: HttpRequest, prospect_id: int) -> HttpResponse:
    """The page an SMS opens (made for a phone first): who, why, what to say, one button to call, the
    outcome in one tap; the mail-merge links and the raw history below, folded."""
    _require(request, "prospects.view_prospect")
    prospect = get_object_or_404(Prospect, pk=prospect_id)
    alert_id = request.GET.get("alerte", "")
    return render(
        request,
        "admin/backoffice/timeline.html",
        _context(
            request,
            _("Activity timeline of %(who)s") % {"who": prospect},
            prospect=prospect,
            entries=prospect_timeline(prospect),
            # The ak and links that carry it: for who may change prospects only (core/admin.py).
            **(prospect_email_links(prospect) if may_read_identity_tokens(request) else {}),
            **prospect_call_sheet(prospect, alert_id=int(alert_id) if alert_id.isdigit() else None),
            outcomes=CallOutcome.choices,
            meeting_marks=MEETING_MARKS,
            can_call=request.user.has_perm("alerts.add_call"),
        ),
    )


# What a person may write about a meeting, in the order of the buttons.
MEETING_MARKS = [
    (Meeting.Status.HELD, gettext_lazy("Held")),
    (Meeting.Status.NO_SHOW, gettext_lazy("No-show")),
    (Meeting.Status.CANCELLED, gettext_lazy("Cancelled")),
]


@require_POST
def mark_meeting(request: HttpRequest, meeting_id: int) -> HttpResponse:
    _require(request, "alerts.add_call")  # whoever records the calls records how the meeting went
    meeting = get_object_or_404(Meeting, pk=meeting_id)
    status = request.POST.get("status", "")
    if status not in dict(MEETING_MARKS):
        messages.error(request, _("Choose held, no-show or cancelled."))
    elif meeting_mark(meeting=meeting, status=status):
        messages.success(request, _("Meeting marked: %(status)s.") % {"status": meeting.get_status_display()})
    else:
        messages.warning(request, _("Nothing to do: the meeting already says so."))
    return redirect("backoffice-timeline", meeting.prospect_id)


@staff_member_required
def lead_short_link(request: HttpRequest, alert_id: int) -> HttpResponse:
    """The short link in the SMS: straight to the lead's page, opened on the signal this SMS was about,
    with the number to call and the call form (login first)."""
    alert = get_object_or_404(Alert.objects.only("prospect_id"), pk=alert_id)
    return redirect(reverse("backoffice-timeline", args=[alert.prospect_id]) + f"?alerte={alert.pk}")


def backoffice_urls() -> list[URLPattern]:
    view = admin.site.admin_view
    return [
        path("hot-leads/", view(hot_leads_page), name="backoffice-hot-leads"),
        path("hot-leads.json", view(hot_leads_json), name="backoffice-hot-leads-json"),
        path("hot-leads/<int:prospect_id>/call/", view(record_call), name="backoffice-record-call"),
        path("alerts/<int:alert_id>/action/", view(alert_action), name="backoffice-alert-action"),
        path("funnel/", view(funnel_page), name="backoffice-funnel"),
        path("ledger/", view(ledger_page), name="backoffice-ledger"),
        path("unmatched/", view(unmatched_page), name="backoffice-unmatched"),
        path("timeline/<int:prospect_id>/", view(timeline_page), name="backoffice-timeline"),
        path("meetings/<int:meeting_id>/mark/", view(mark_meeting), name="backoffice-mark-meeting"),
    ]
