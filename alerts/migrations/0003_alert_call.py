"""An alert links the call that handled it; the copies of that call on the alert go away.

Existing acknowledgements are kept: each acknowledged alert is linked to the call recorded with it
(call_record wrote both in one transaction, a moment apart), or, where none is found, to a call made
from the alert's own copy, so nothing that was recorded is lost."""

from datetime import timedelta

import django.db.models.deletion
from django.db import migrations, models


def link_alerts_to_calls(apps, schema_editor):
    Alert = apps.get_model("alerts", "Alert")
    Call = apps.get_model("alerts", "Call")
    for alert in Alert.objects.filter(acknowledged_at__isnull=False).iterator():
        near = Call.objects.filter(
            prospect_id=alert.prospect_id,
            called_at__gte=alert.acknowledged_at - timedelta(minutes=1),
            called_at__lte=alert.acknowledged_at + timedelta(minutes=1),
        ).order_by("called_at")
        call = near.first()
        if call is None:
            call = Call.objects.create(
                prospect_id=alert.prospect_id,
                called_by_id=alert.acknowledged_by_id,
                outcome=alert.call_outcome or "reached",
                note=alert.note,
            )
            Call.objects.filter(pk=call.pk).update(called_at=alert.acknowledged_at)
        Alert.objects.filter(pk=alert.pk).update(call=call)


def copy_calls_back(apps, schema_editor):
    Alert = apps.get_model("alerts", "Alert")
    for alert in Alert.objects.filter(call__isnull=False).select_related("call").iterator():
        Alert.objects.filter(pk=alert.pk).update(
            acknowledged_at=max(alert.call.called_at, alert.occurred_at),
            acknowledged_by_id=alert.call.called_by_id,
            call_outcome=alert.call.outcome,
            note=alert.call.note,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0002_call"),
    ]

    operations = [
        migrations.AddField(
            model_name="alert",
            name="call",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="alerts",
                to="alerts.call",
                verbose_name="handled by call",
            ),
        ),
        migrations.RunPython(link_alerts_to_calls, copy_calls_back),
        migrations.RemoveConstraint(model_name="alert", name="alert_ack_after_signal"),
        migrations.RemoveField(model_name="alert", name="acknowledged_at"),
        migrations.RemoveField(model_name="alert", name="acknowledged_by"),
        migrations.RemoveField(model_name="alert", name="call_outcome"),
        migrations.RemoveField(model_name="alert", name="note"),
    ]
