import json

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def baseline_insert(request):
    """The floor to compare with: parse the JSON, one raw INSERT into the same table, answer."""
    data = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tracking_visitevent (visitor_id, page_view_id, page, referrer, ak, email, received_at, "
            "is_bot, user_agent, event) VALUES (%s, %s, %s, '', '', '', %s, false, '', %s)",
            [data["visitor_id"], data["page_view_id"], data["page"], timezone.now(), data["event"]],
        )
    return JsonResponse({"ok": True}, status=202)


def ping(request):
    return HttpResponse("ok")


urlpatterns = [
    path("bench/baseline", baseline_insert),
    path("bench/ping", ping),
    path("", include("arkwatch.urls")),
]
