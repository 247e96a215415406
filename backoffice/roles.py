"""Roles: the "Caller" group sees prospects, events and hot leads, records calls and words the call
openers; it cannot edit or delete events, identity tokens or SMS delivery data. Superusers do the
rest."""

from typing import Any

from django.contrib.auth.models import Group, Permission

CALLER_GROUP = "Caller"
CALLER_PERMISSIONS = [
    ("prospects", "view_prospect"),
    ("tracking", "view_visitevent"),
    ("tracking", "view_ctaclick"),
    ("tracking", "view_emailevent"),
    ("tracking", "view_visitor"),
    # Meetings are what their calls are for: seen, never edited (the booking tool's word).
    ("tracking", "view_meeting"),
    # The replies they call about: seen; correcting a sort (which may stop all contact) is the founder's.
    ("tracking", "view_inboundreply"),
    ("alerts", "view_alert"),
    ("alerts", "view_alertdelivery"),
    ("alerts", "view_call"),
    ("alerts", "add_call"),
    # The first line of each call is theirs to word.
    ("backoffice", "view_callopener"),
    ("backoffice", "change_callopener"),
]


def ensure_caller_group() -> Group:
    group, _created = Group.objects.get_or_create(name=CALLER_GROUP)
    wanted = []
    for app_label, codename in CALLER_PERMISSIONS:
        permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
        if permission is not None:
            wanted.append(permission)
    group.permissions.set(wanted)
    return group


def ensure_roles_after_migrate(**kwargs: Any) -> None:
    ensure_caller_group()
