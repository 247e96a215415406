import json
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.commands import ProductCommand
from prospects.models import Prospect
from tracking.tokens import destination_problem, email_links_for


class Command(ProductCommand):
    help = gettext_noop(
        "Print the open pixel, the tracked link, the ak token and the consent and opt-out links to put in an "
        "email to a prospect."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help=_("the prospect's email address"))
        parser.add_argument("--message-id", required=True, help=_("the email's message id (1-200 characters)"))
        parser.add_argument("--url", help=_("destination of the tracked link (http or https)"))
        parser.add_argument("--json", action="store_true", help=_("print one JSON object"))

    def handle(self, *args: Any, email: str, message_id: str, url: str | None, json: bool, **options: Any) -> None:
        prospect = Prospect.objects.filter(email=email.strip().lower()).first()
        if prospect is None:
            raise CommandError(
                _("No prospect has the email “%(email)s”. Import it first (import_prospects).") % {"email": email}
            )
        if not 1 <= len(message_id) <= 200:
            raise CommandError(_("--message-id must be 1 to 200 characters."))
        problem = destination_problem(url) if url is not None else None
        if problem:
            raise CommandError(_("--url refused: %(problem)s") % {"problem": problem})
        links = email_links_for(prospect, message_id=message_id, url=url)
        if json:
            self.stdout.write(_dumps(links.as_dict()))
            return
        # Labels in the one language, values aligned after them; the `ak` keeps its name (the URL parameter).
        rows = [
            (_("Personal token (ak):"), links.ak or _("(none: the prospect's consent does not allow it)")),
            (_("Open pixel:"), links.pixel_url),
            (_("Tracked link:"), links.link_url or _("(give --url to get a tracked link)")),
            (_("Consent link:"), links.consent_url),
            (_("Opt-out link:"), links.optout_url),
        ]
        width = max(len(label) for label, _value in rows)
        for label, value in rows:
            self.stdout.write(f"{label:<{width}} {value}")


def _dumps(data: dict) -> str:
    return json.dumps(data)
