"""Where the outbox's two queued tasks lived before alerts/ was split by job (2026-12-07).

django-q2 stores a queued task as a pickled reference to its function, by module path: a task queued
by the earlier version while its workers were being replaced names `alerts.delivery.alert_deliver` or
`alerts.delivery.notice_deliver`, and a worker that cannot import that path stops taking tasks. Those
two names stay importable here for one release; nothing in the product imports this module.
"""

from alerts.outbox.delivery import alert_deliver, notice_deliver

__all__ = ["alert_deliver", "notice_deliver"]
