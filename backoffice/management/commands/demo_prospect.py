from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.commands import ProductCommand
from prospects.models import Prospect
from prospects.services import DEMO_EMAIL, demo_prospect_add
from tracking.privacy import prospect_forget


class Command(ProductCommand):
    help = gettext_noop(
        "Add one clearly-marked demo prospect to try the first SMS (README, the first hour), or --remove it "
        "with its events: your real list never holds fictitious people."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--remove", action="store_true", help=_("erase the demo prospect and its events"))

    def handle(self, *args: Any, remove: bool, **options: Any) -> None:
        if remove:
            demo = Prospect.objects.filter(email=DEMO_EMAIL).first()
            if demo is None:
                self.stdout.write(_("No demo prospect: nothing to remove."))
                return
            prospect_forget(prospect=demo)
            self.stdout.write(self.style.SUCCESS(_("Demo prospect removed, with its events.")))
            return
        prospect, created = demo_prospect_add()
        said = _("Demo prospect added: %(email)s.") if created else _("The demo prospect is already there: %(email)s.")
        self.stdout.write(self.style.SUCCESS(said % {"email": prospect.email}))
        self.stdout.write(_("Remove it when you are done: manage.py demo_prospect --remove"))
