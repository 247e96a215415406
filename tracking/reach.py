"""The tracker's real reach: of a person's clicks on a tracked link (seen by the server, where no page
filter reaches), the share followed within a minute by a page view carrying the same `ak`. A click
with no page view after it is a blocked tracker (an ad blocker, a privacy browser) or a page that
never loaded: the person is there all the same, and the founder should call anyway.

Counted only where the link could carry the `ak` (the prospect's consent allows `link`, contract §2d),
and only for clicks judged a person's (EmailEvent.machine_reason empty)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, QuerySet

from prospects.consent import LINK, prospect_allows
from prospects.models import Prospect
from tracking.models import EmailEvent, VisitEvent

FOLLOW_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Reach:
    clicks: int  # a person's clicks on tracked links, each old enough to have been followed
    followed: int  # of them, followed within FOLLOW_WINDOW by a page view with the same ak

    @property
    def share(self) -> float | None:
        return self.followed / self.clicks if self.clicks else None


@dataclass(frozen=True)
class UnfollowedClick:
    prospect: Prospect
    clicked_at: datetime
    url: str


def _page_view_after_click() -> Exists:
    return Exists(
        VisitEvent.objects.filter(
            ak=OuterRef("prospect__identity_token"),
            is_bot=False,
            received_at__gte=OuterRef("received_at"),
            received_at__lte=OuterRef("received_at") + FOLLOW_WINDOW,
        )
    )


def _person_clicks(since: datetime, now: datetime) -> QuerySet[EmailEvent]:
    """A person's clicks received in [since, now - FOLLOW_WINDOW] (each old enough to have been followed)."""
    return (
        EmailEvent.objects.filter(
            event=EmailEvent.Kind.CLICKED,
            machine_reason="",
            received_at__gte=since,
            received_at__lte=now - FOLLOW_WINDOW,
        )
        .select_related("prospect")
        .order_by("-received_at")
    )


def tracker_reach(*, since: datetime, now: datetime) -> Reach:
    clicks = _person_clicks(since, now).annotate(followed=_page_view_after_click())
    counted = [bool(click.followed) for click in clicks if prospect_allows(click.prospect, LINK)]
    return Reach(clicks=len(counted), followed=sum(counted))


def unfollowed_clicks(*, since: datetime, now: datetime) -> list[UnfollowedClick]:
    """Per prospect, its latest click on a tracked link that no page view with its ak followed, then or
    since (newest first)."""
    found: dict[int, UnfollowedClick] = {}
    for click in _person_clicks(since, now).filter(~_page_view_after_click()):
        if click.prospect_id in found or not prospect_allows(click.prospect, LINK):
            continue
        later = VisitEvent.objects.filter(
            ak=click.prospect.identity_token, is_bot=False, received_at__gte=click.received_at
        )
        if not later.exists():
            found[click.prospect_id] = UnfollowedClick(click.prospect, click.received_at, click.url)
    return list(found.values())
