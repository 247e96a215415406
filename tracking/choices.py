"""Choices shared by the intake's models (tracking/models.py, tracking/replies/models.py): here, so that
neither models module imports the other."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Identification(models.TextChoices):
    """How sure we are of who the visitor was."""

    # A personal link's ak token (tracked-link clicks carry it), a signed pixel, a hand link.
    VERIFIED = "verified", _("verified")
    # An email given, a company or referrer domain, an IP rule: anyone could have typed them.
    UNVERIFIED = "unverified", _("unverified")
