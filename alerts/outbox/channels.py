"""Alert channels besides SMS: Apprise URLs (Telegram, Slack, ntfy, email, json:// to any endpoint…)
listed in ALERT_CHANNELS. Apprise is maintained and speaks ~100 services; it has no OVH plugin, so SMS
stays our own backend (alerts/outbox/sms/).

An Apprise URL holds its service's secret (a bot token, a password): it lives only in the environment.
A delivery row names its channel by a hash of the URL and shows its scheme and host only.
"""

import hashlib
from functools import lru_cache

import apprise
from django.conf import settings
from django.utils.translation import gettext as _

from alerts.outbox.errors import DeliveryError
from core.display import channel_display

PREFIX = "apprise:"


class ChannelError(DeliveryError):
    """An Apprise channel's failure (see DeliveryError for `permanent`)."""


def channel_key(url: str) -> str:
    return PREFIX + hashlib.sha256(url.encode()).hexdigest()[:32]


@lru_cache(maxsize=64)
def channel_label(url: str) -> str:
    """The URL's scheme and host (core/display.py channel_display), read from Apprise's own form with
    privacy on, so that a service whose host is a token is shown elided: an ntfy topic, a token in a
    webhook's path are secrets, and Callers see deliveries."""
    service = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if not service:
        return channel_display(url.split("://", 1)[0] + "://")
    return channel_display(str(service.url(privacy=True)))


def configured_channels() -> dict[str, str]:
    """{key: url} of ALERT_CHANNELS, in order."""
    return {channel_key(url): url for url in settings.ALERT_CHANNELS}


# One URL per call, sent in the calling thread (its plugin's own socket timeouts bound it): Apprise's
# default hands each message to a process-wide thread pool to time it out, and that pool does not
# survive a fork — in a forked django-q2 worker whose parent had sent, the message waited forever
# (tests/test_channels.py).
_IN_THIS_THREAD = apprise.AppriseAsset(async_mode=False, service_timeout=0)


def send_to_channel(*, key: str, title: str, body: str) -> None:
    """Send through the channel named by `key`. Raises ChannelError: permanent when the channel is gone from
    ALERT_CHANNELS or Apprise cannot read its URL, temporary when the service refused or did not answer
    (Apprise reports failure without saying whether the message arrived; see docs/how-it-works.md)."""
    url = configured_channels().get(key)
    if url is None:
        raise ChannelError(_("this channel is no longer in ALERT_CHANNELS"), permanent=True)
    notifier = apprise.Apprise(asset=_IN_THIS_THREAD)
    if not notifier.add(url):
        raise ChannelError(
            _("Apprise cannot read the channel URL %(channel)s") % {"channel": channel_label(url)}, permanent=True
        )
    if not notifier.notify(title=title, body=body):
        raise ChannelError(_("%(channel)s did not accept the message") % {"channel": channel_label(url)})
