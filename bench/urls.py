"""Reference views the ingest bench compares the real endpoint with (bench settings only).

- /bench/noop: read the body, parse the JSON, answer 202 — the cost of Django and HTTP alone.
- /bench/baseline: the same plus one raw INSERT of the columns the real endpoint stores, table and
  columns taken from the model (a renamed column cannot leave the baseline writing somewhere else).
- /bench/baseline-async: the baseline with `SET LOCAL synchronous_commit = off` (PostgreSQL), to
  measure what an asynchronous commit would save on event INSERTs.
"""

import json
from functools import lru_cache

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from core.sql import insert_sql as core_insert_sql
from tracking.models import VisitEvent

ACCEPTED = b'{"ok": true}'
COLUMNS = (
    "visitor_id",
    "page_view_id",
    "page",
    "referrer",
    "ak",
    "email",
    "received_at",
    "is_bot",
    "user_agent",
    "client_network",
    "event",
    "engaged_ms",
)


@lru_cache(maxsize=1)
def insert_sql() -> str:
    return core_insert_sql(VisitEvent, tuple(COLUMNS))


def _row(request: HttpRequest, data: dict) -> list:
    return [
        data["visitor_id"],
        data.get("page_view_id", ""),
        data.get("page", ""),
        data.get("referrer", ""),
        data.get("ak", ""),
        "",
        timezone.now(),
        False,
        request.META.get("HTTP_USER_AGENT", "")[:512],
        None,
        data.get("event", "heartbeat"),
        data.get("engaged_ms"),
    ]


@csrf_exempt
def noop(request: HttpRequest) -> HttpResponse:
    json.loads(request.body)
    return HttpResponse(ACCEPTED, content_type="application/json", status=202)


@csrf_exempt
def baseline_insert(request: HttpRequest) -> HttpResponse:
    data = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute(insert_sql(), _row(request, data))
    return HttpResponse(ACCEPTED, content_type="application/json", status=202)


@csrf_exempt
def baseline_async_commit(request: HttpRequest) -> HttpResponse:
    data = json.loads(request.body)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute(insert_sql(), _row(request, data))
    return HttpResponse(ACCEPTED, content_type="application/json", status=202)


def ping(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [
    path("bench/noop", noop),
    path("bench/baseline", baseline_insert),
    path("bench/baseline-async", baseline_async_commit),
    path("bench/ping", ping),
    path("", include("arkwatch.urls")),
]
