"""Who may do what in the admin and the back office, one row per action and page, for each role.

The tables are checked against what the admin site registers: a new admin action, model or page
without a row fails `test_every_*_has_a_row`, so nobody adds one without saying who may use it.
Roles: the superuser (the founder), a Caller (backoffice/roles.py), and staff without a role.
"""

from collections.abc import Callable

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from alerts.outbox.models import Alert
from backoffice.roles import CALLER_GROUP
from prospects.models import Prospect
from tests.factories import AlertDeliveryFactory, ProspectFactory

pytestmark = pytest.mark.django_db

ROLES = ("superuser", "caller", "staff")

# Every admin action, (model, action) -> may a Caller run it. The superuser runs them all; staff
# without a role none.
CALLER_MAY_RUN = {
    ("prospects.Prospect", "mark_contacted"): False,
    ("prospects.Prospect", "mark_do_not_contact"): False,
    ("prospects.Prospect", "delete_selected"): False,
    # A mail merge mints signed links on our domain that hand out each prospect's ak: the change
    # permission, not a Caller's view (issue 18: a Caller exported a link to evil.example).
    ("prospects.Prospect", "export_email_links"): False,
    # Replacing a leaked ak breaks the links already sent: the founder's call.
    ("prospects.Prospect", "rotate_identity_token"): False,
    # The consent proof is what a Caller may already read on the prospect's page.
    ("prospects.Prospect", "export_consent_proof"): True,
    # The whole list out (phones, emails, pipeline) is the founder's, as editing it is.
    ("prospects.Prospect", "export_xlsx"): False,
    ("prospects.Prospect", "export_csv"): False,
    # Whoever records the calls records how the meeting went.
    ("tracking.Meeting", "mark_held"): True,
    ("tracking.Meeting", "mark_no_show"): True,
    ("tracking.Meeting", "mark_cancelled"): True,
    ("tracking.WebhookUnknownRecipients", "delete_selected"): False,
    ("tracking.MessageOpenCount", "delete_selected"): False,
    ("tracking.Visitor", "delete_selected"): False,
    ("alerts.Alert", "delete_selected"): False,
    ("alerts.Call", "delete_selected"): False,
    ("alerts.AlertDelivery", "delete_selected"): False,
    ("alerts.SignalCooldown", "delete_selected"): False,
    ("alerts.DetectionRun", "delete_selected"): False,
    ("alerts.SmsReply", "delete_selected"): False,
    ("auth.Group", "delete_selected"): False,
    ("auth.User", "delete_selected"): False,
    ("django_q.Schedule", "delete_selected"): False,
    ("django_q.Success", "delete_selected"): False,
    ("django_q.Success", "resubmit_task"): False,
    ("django_q.Failure", "delete_selected"): False,
    ("django_q.Failure", "resubmit_task"): False,
    ("django_q.OrmQ", "delete_selected"): False,
}

# Every registered model: what a Caller may do with it in the admin (view, add, change, delete).
NOTHING = (False, False, False, False)
VIEW = (True, False, False, False)
CALLER_MAY = {
    "prospects.Prospect": VIEW,
    "tracking.VisitEvent": VIEW,
    "tracking.CtaClick": VIEW,
    "tracking.EmailEvent": VIEW,
    "tracking.Visitor": VIEW,
    "tracking.WebhookUnknownRecipients": NOTHING,
    # Aggregate opens of messages: nobody in them, nothing a Caller calls about.
    "tracking.MessageOpenCount": NOTHING,
    # The booking tool's word: a Caller sees who booked and when; nobody adds, edits or deletes one.
    "tracking.Meeting": VIEW,
    # The replies read: a Caller sees why a lead replied; correcting a sort (it may stop all contact)
    # is the founder's. Replies and the mailbox's cursor are evidence: nobody adds or deletes them.
    "tracking.InboundReply": VIEW,
    "tracking.MailboxCursor": NOTHING,
    "alerts.Alert": VIEW,
    "alerts.AlertDelivery": VIEW,
    # They record their calls from the back office (add_call), never in the admin, and never rewrite one.
    "alerts.Call": VIEW,
    "alerts.SignalCooldown": NOTHING,
    "alerts.DetectionRun": NOTHING,
    # The founder's replies from their phone, and why one changed nothing: the founder's page.
    "alerts.SmsReply": NOTHING,
    # The first line of each call is theirs to word; nobody adds or removes one.
    "backoffice.CallOpener": (True, False, True, False),
    "auth.Group": NOTHING,
    "auth.User": NOTHING,
    "django_q.Schedule": NOTHING,
    "django_q.Success": NOTHING,
    "django_q.Failure": NOTHING,
    "django_q.OrmQ": NOTHING,  # registered only with the database as broker (no REDIS_URL)
}
ONLY_WITH_THE_ORM_BROKER = {"django_q.OrmQ"}


# Every page of the back office and every admin page that is not one of a model's standard five
# (list, add, change, delete, history): its URL for a prospect and its alert, and the status each
# role gets on GET. 302 for the import page means "sent back to the list with an error".
def _prospect(objects: dict) -> list:
    return [objects["prospect"].pk]


def _alert(objects: dict) -> list:
    return [objects["alert"].pk]


def _none(objects: dict) -> list:
    return []


PAGES: dict[str, tuple[Callable[[dict], list], dict[str, int]]] = {
    "backoffice-hot-leads": (_none, {"superuser": 200, "caller": 200, "staff": 403}),
    "backoffice-hot-leads-json": (_none, {"superuser": 200, "caller": 200, "staff": 403}),
    "backoffice-funnel": (_none, {"superuser": 200, "caller": 200, "staff": 403}),
    "backoffice-ledger": (_none, {"superuser": 200, "caller": 200, "staff": 403}),
    "backoffice-unmatched": (_none, {"superuser": 200, "caller": 200, "staff": 403}),
    "backoffice-timeline": (_prospect, {"superuser": 200, "caller": 200, "staff": 403}),
    # POST only (the POSTs are tested per role below).
    "backoffice-record-call": (_prospect, {"superuser": 405, "caller": 405, "staff": 405}),
    "backoffice-alert-action": (_alert, {"superuser": 405, "caller": 405, "staff": 405}),
    "backoffice-mark-meeting": (lambda o: [1], {"superuser": 405, "caller": 405, "staff": 405}),
    "admin:prospects_prospect_import": (_none, {"superuser": 200, "caller": 302, "staff": 302}),
    # Recording a consent change by hand needs the change permission; reading its proof, the view one.
    "admin:prospects_prospect_consent": (_prospect, {"superuser": 200, "caller": 302, "staff": 302}),
    "admin:prospects_prospect_consent_export": (_prospect, {"superuser": 200, "caller": 200, "staff": 302}),
    "admin:auth_user_password_change": (
        lambda o: [o["caller_user"].pk],
        {"superuser": 200, "caller": 403, "staff": 403},
    ),
}
# Django's own pages, the same for every staff member (index, login, password change, …).
DJANGO_PAGES = {
    "admin:index",
    "admin:login",
    "admin:logout",
    "admin:password_change",
    "admin:password_change_done",
    "admin:autocomplete",
    "admin:jsi18n",
    "admin:view_on_site",
    "admin:app_list",
}
STANDARD_VIEWS = ("changelist", "add", "change", "delete", "history")


def _named_patterns(patterns, namespace: str = "") -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= _named_patterns(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(namespace + pattern.name)
    return names


def _admin_pages() -> set[str]:
    names = _named_patterns(get_resolver().url_patterns)
    pages = {n for n in names if n.startswith("admin:") or n.startswith("backoffice-")}
    standard = {
        f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}"
        for model in admin.site._registry
        for view in STANDARD_VIEWS
    }
    return pages - DJANGO_PAGES - standard


def _user(django_user_model, role: str):
    if role == "superuser":
        return django_user_model.objects.create_superuser("founder", "founder@example.com", "pw-for-tests-only")
    user = django_user_model.objects.create_user(role, password="pw-for-tests-only", is_staff=True)
    if role == "caller":
        user.groups.add(Group.objects.get(name=CALLER_GROUP))
    return django_user_model.objects.get(pk=user.pk)  # a fresh object: no cached permissions


@pytest.fixture
def users(django_user_model) -> dict:
    return {role: _user(django_user_model, role) for role in ROLES}


def _request(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def _admin_actions(user) -> set[tuple[str, str]]:
    """The actions a user can run: offered on a list the user may open (an action offered on a list
    that answers 403, like django-q2's resubmit_task to a Caller, cannot be run)."""
    request = _request(user)
    return {
        (model._meta.label, name)
        for model, model_admin in admin.site._registry.items()
        if model_admin.has_view_or_change_permission(request)
        for name in model_admin.get_actions(request)
    }


def _registered_rows(table: dict) -> dict:
    labels = {model._meta.label for model in admin.site._registry}
    return {key: value for key, value in table.items() if (key if isinstance(key, str) else key[0]) in labels}


def test_every_admin_action_has_a_row(users):
    assert _admin_actions(users["superuser"]) == set(_registered_rows(CALLER_MAY_RUN))


def test_every_admin_model_has_a_row():
    registered = {model._meta.label for model in admin.site._registry}
    assert registered - set(CALLER_MAY) == set(), "a model in the admin has no row in CALLER_MAY"
    assert set(CALLER_MAY) - registered <= ONLY_WITH_THE_ORM_BROKER


def test_every_admin_page_has_a_row():
    assert _admin_pages() == set(PAGES)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_offered_exactly_its_actions(users, role):
    expected = {
        key
        for key, caller_may in _registered_rows(CALLER_MAY_RUN).items()
        if role == "superuser" or (role == "caller" and caller_may)
    }
    assert _admin_actions(users[role]) == expected


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("label", sorted(CALLER_MAY))
def test_each_role_may_view_add_change_delete_exactly_its_rows(users, role, label):
    model = next((m for m in admin.site._registry if m._meta.label == label), None)
    if model is None:
        assert label in ONLY_WITH_THE_ORM_BROKER
        return
    model_admin = admin.site._registry[model]
    request = _request(users[role])
    may = (
        model_admin.has_view_permission(request),
        model_admin.has_add_permission(request),
        model_admin.has_change_permission(request),
        model_admin.has_delete_permission(request),
    )
    if role == "superuser":
        # The founder may do all that the model's admin allows anyone (events are never edited).
        assert may[0]
    elif role == "caller":
        assert may == CALLER_MAY[label]
    else:
        assert may == NOTHING
    changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    client = Client()
    client.force_login(users[role])
    assert client.get(changelist).status_code == (200 if may[0] else 403)


@pytest.fixture
def objects(users) -> dict:
    prospect = ProspectFactory(email="lead@acme-corp.example", status=Prospect.Status.HOT)
    alert = AlertDeliveryFactory(alert__prospect=prospect, alert__status=Alert.Status.FAILED).alert
    return {"prospect": prospect, "alert": alert, "caller_user": users["caller"]}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_role_gets_each_page_as_its_row_says(users, objects, role, name):
    args, statuses = PAGES[name]
    client = Client()
    client.force_login(users[role])
    assert client.get(reverse(name, args=args(objects))).status_code == statuses[role]


@pytest.mark.parametrize(("role", "changed"), [("superuser", True), ("caller", False), ("staff", False)])
@pytest.mark.parametrize(
    ("action", "status"), [("mark_do_not_contact", "do_not_contact"), ("mark_contacted", "contacted")]
)
def test_only_the_founder_changes_a_prospects_status_from_the_list(users, objects, role, changed, action, status):
    client = Client()
    client.force_login(users[role])
    prospect = objects["prospect"]
    client.post(
        reverse("admin:prospects_prospect_changelist"),
        {"action": action, ACTION_CHECKBOX_NAME: [prospect.pk], "index": 0},
    )
    prospect.refresh_from_db()
    assert (prospect.status == status) is changed


@pytest.mark.parametrize(("role", "imported"), [("superuser", True), ("caller", False), ("staff", False)])
def test_only_the_founder_imports_prospects(users, role, imported):
    client = Client()
    client.force_login(users[role])
    upload = SimpleUploadedFile("leads.csv", b"email,name\nnew-lead@initech.example,Nouveau Lead\n")
    client.post(reverse("admin:prospects_prospect_import"), {"file": upload})
    assert Prospect.objects.filter(email="new-lead@initech.example").exists() is imported


@pytest.mark.parametrize(("role", "exported"), [("superuser", True), ("caller", False), ("staff", False)])
def test_the_mail_merge_export_follows_its_row(users, objects, role, exported):
    client = Client()
    client.force_login(users[role])
    response = client.post(
        reverse("admin:prospects_prospect_changelist"),
        {
            "action": "export_email_links",
            ACTION_CHECKBOX_NAME: [objects["prospect"].pk],
            "index": 0,
            "apply": "1",
            "message_id": "relance-1",
            "file_format": "csv",
            "url": "",
        },
    )
    # A Caller sees the prospect in the list it comes back to, but gets no file.
    downloaded = response.get("Content-Type", "").startswith("text/csv")
    assert downloaded is exported
    assert not exported or b"lead@acme-corp.example" in response.content


@pytest.mark.parametrize(("role", "recorded"), [("superuser", True), ("caller", True), ("staff", False)])
def test_recording_a_call_and_handling_an_alert_need_the_caller_role(users, objects, role, recorded):
    client = Client()
    client.force_login(users[role])
    prospect, alert = objects["prospect"], objects["alert"]
    client.post(reverse("backoffice-record-call", args=[prospect.pk]), {"outcome": "reached"})
    client.post(reverse("backoffice-alert-action", args=[alert.pk]), {"action": "acknowledge"})
    alert.refresh_from_db()
    assert prospect.calls.exists() is recorded
    assert (alert.failure_acknowledged_at is not None) is recorded
