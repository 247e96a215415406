"""Admin page of the detection runs: what each cycle read and found."""

from django.contrib import admin

from alerts.signals.models import DetectionRun
from core.admin import ReadOnlyAdmin


@admin.register(DetectionRun)
class DetectionRunAdmin(ReadOnlyAdmin):
    # What a run did, in the width of a 1,366 px screen; the visitors matched and the end time are on
    # the run's page.
    list_display = ["started_at", "trigger", "events_scanned", "signals_found", "alerts_created", "error"]
    list_filter = ["trigger"]
    ordering = ["-started_at"]
    readonly_fields = [f.name for f in DetectionRun._meta.fields]
