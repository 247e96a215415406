"""The alerts app's models, as Django looks for them here: each lives in the room of its job
(alerts/signals/, alerts/outbox/, alerts/outcomes/). The app label and the tables stay "alerts"."""

from alerts.outbox.models import Alert, AlertDelivery, HourlySmsBudget, SignalCooldown, SmsNotice
from alerts.outcomes.models import Call, CallOutcome, SmsReply
from alerts.signals.models import DetectionRun, Signal

__all__ = [
    "Alert",
    "AlertDelivery",
    "Call",
    "CallOutcome",
    "DetectionRun",
    "HourlySmsBudget",
    "Signal",
    "SignalCooldown",
    "SmsNotice",
    "SmsReply",
]
