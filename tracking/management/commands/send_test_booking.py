import json
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.commands import ProductCommand
from prospects.models import Prospect
from tracking.sample_bookings import SECRETS, sample_booking_delivery


class Command(ProductCommand):
    help = gettext_noop(
        "Post a signed test booking (Cal.com or Calendly) for one prospect to this server's webhook, as the tool "
        "would: checks the secret and the path from the booking to the SMS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tool", choices=sorted(SECRETS), required=True, help=_("calcom or calendly"))
        parser.add_argument("--email", help=_("the prospect who books (default: the first prospect)"))
        parser.add_argument("--url", help=_("the server to post to (default: PUBLIC_BASE_URL)"))

    def handle(self, *args: Any, tool: str, email: str | None, url: str | None, **options: Any) -> None:
        setting = SECRETS[tool]
        if not getattr(settings, setting):
            raise CommandError(
                _("%(setting)s is not set: put the secret you gave %(tool)s in .env, then restart make run.")
                % {"setting": setting, "tool": "Cal.com" if tool == "calcom" else "Calendly"}
            )
        prospects = Prospect.objects.order_by("pk")
        prospect = prospects.filter(email=email.strip().lower()).first() if email else prospects.first()
        if prospect is None:
            raise CommandError(
                _("No prospect with the email %(email)s.") % {"email": email}
                if email
                else _("No prospect to book for. Import some first (import_prospects).")
            )
        starts = (timezone.localtime() + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
        delivery = sample_booking_delivery(tool=tool, prospect=prospect, starts=starts)
        target = (url or settings.PUBLIC_BASE_URL).rstrip("/") + f"/api/webhooks/{tool}"
        request = urllib.request.Request(target, data=delivery.body, headers=delivery.headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (our own server)
                status, answer = response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            status, answer = exc.code, exc.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as exc:
            raise CommandError(
                _("Nothing answers at %(url)s (%(error)s): is make run running?")
                % {"url": target, "error": getattr(exc, "reason", exc)}
            ) from None
        try:
            said = json.loads(answer).get("error") or ""
        except (ValueError, AttributeError):
            said = answer[:200]
        if status != 200:
            raise CommandError(
                _("%(url)s answered %(status)d: %(said)s") % {"url": target, "status": status, "said": said}
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("Test booking of %(who)s for %(when)s accepted by %(url)s: the meeting is on their page.")
                % {"who": prospect, "when": f"{starts:%d/%m %H:%M}", "url": target}
            )
        )
