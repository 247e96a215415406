from django.db import models
from django.utils.translation import gettext_lazy as _


class SharedCounter(models.Model):
    """A counter or a once-only claim that every web process of a PostgreSQL deployment sees:
    rate-limit windows, the admin login throttle, the dwell crossing, webhook replay tokens.

    Written only with one atomic upsert per request (core/ratelimit.py). Times are epoch seconds,
    not datetimes: nothing here is shown to a person, and a float compares the same on SQLite and
    PostgreSQL without conversion. On PostgreSQL the table is UNLOGGED: no WAL, so a write costs
    little, and a crash empties it, which only starts the current windows again."""

    key = models.CharField(_("key"), max_length=255, primary_key=True)
    value = models.FloatField(_("value"))
    expires_at = models.FloatField(_("expires at (epoch seconds)"), db_index=True)

    class Meta:
        verbose_name = _("shared counter")
        verbose_name_plural = _("shared counters")

    def __str__(self) -> str:
        return f"{self.key}={self.value:g}"
