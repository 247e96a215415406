from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from core.commands import ProductCommand
from tracking.privacy import person_forget


class Command(ProductCommand):
    help = gettext_noop(
        "Erasure request: delete the prospect with this email (its email events, alerts, calls and meetings) "
        "and take the email and its personal link tokens off every visit, click and visitor."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help=_("the email address of the person to forget"))

    def handle(self, *args: Any, email: str, **options: Any) -> None:
        try:
            validate_email(email.strip())
        except ValidationError:
            raise CommandError(_("“%(email)s” is not an email address.") % {"email": email}) from None
        report = person_forget(email=email)
        events = ngettext(
            "%(count)d visit or click event anonymised",
            "%(count)d visit or click events anonymised",
            report.events_anonymised,
        ) % {"count": report.events_anonymised}
        visitors = ngettext(
            "%(count)d visitor anonymised", "%(count)d visitors anonymised", report.visitors_anonymised
        ) % {"count": report.visitors_anonymised}
        values = {"email": email.strip().lower(), "events": events, "visitors": visitors}
        if report.prospect_deleted:
            forgotten = _(
                "Forgotten: the prospect %(email)s is deleted with its email events, alerts, calls and meetings; "
                "%(events)s, %(visitors)s."
            )
        else:
            forgotten = _("No prospect has the email %(email)s; %(events)s, %(visitors)s.")
        self.stdout.write(forgotten % values)
