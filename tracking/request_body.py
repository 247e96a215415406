"""A public endpoint's request body, read one way by every view of tracking: its size, its content type,
its JSON. Each endpoint passes its own limit (docs/interface.md): the browser events' and the sender's
API's TRACKING_MAX_BODY_BYTES, the webhooks' WEBHOOK_MAX_BODY_BYTES, the inbound mail's
DATA_UPLOAD_MAX_MEMORY_SIZE. The answers are JSON `{"error": …}` with the same sentence everywhere; a
sentence that differs by endpoint (a JSON body that does not parse) stays with its view."""

import json
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _

# What the snippet may send (text/plain needs no CORS preflight); "" when the client names none.
JSON_CONTENT_TYPES = ("application/json", "text/plain", "")


class NotJson(ValueError):
    """The body is not UTF-8 JSON, or nests too deep to be read."""


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _too_large(limit: int) -> JsonResponse:
    return _error(413, _("The body is larger than %(limit)d bytes.") % {"limit": limit})


def declared_length(request: HttpRequest) -> int | None:
    """The Content-Length the client declared (0 when it declares none), or None when it is not a number."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None


def _declared_refusal(request: HttpRequest, limit: int) -> JsonResponse | None:
    declared = declared_length(request)
    if declared is None:
        return _error(400, _("The Content-Length header is not a number."))
    return _too_large(limit) if declared > limit else None


def _read(request: HttpRequest, limit: int) -> tuple[bytes, JsonResponse | None]:
    try:
        body = request.body
    except RequestDataTooBig:
        return b"", _too_large(limit)
    return (b"", _too_large(limit)) if len(body) > limit else (body, None)


def body_within(request: HttpRequest, limit: int) -> tuple[bytes, JsonResponse | None]:
    """The raw body, or the answer refusing it: 400 when the Content-Length is not a number, 413 when the
    body is larger than `limit` bytes, as declared or as read (nothing past the declared size is read)."""
    refused = _declared_refusal(request, limit)
    return (b"", refused) if refused is not None else _read(request, limit)


def json_value(body: bytes) -> Any:
    """The body's JSON value, or NotJson."""
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise NotJson(str(exc)) from exc


def json_object(request: HttpRequest, limit: int) -> tuple[dict[str, Any] | None, JsonResponse | None]:
    """The body's JSON object, or the 4xx answer that says what is wrong with it: the size as
    body_within (the declared one first), then 415 for a content type other than JSON or plain text,
    then 400 when it is not JSON or not an object."""
    refused = _declared_refusal(request, limit)
    if refused is not None:
        return None, refused
    if (request.content_type or "") not in JSON_CONTENT_TYPES:
        return None, _error(415, _("Send the event as JSON, with Content-Type application/json or text/plain."))
    body, refused = _read(request, limit)
    if refused is not None:
        return None, refused
    try:
        data = json_value(body)
    except NotJson:
        return None, _error(400, _("The body is not valid JSON."))
    if not isinstance(data, dict):
        return None, _error(400, _("The body must be a JSON object."))
    return data, None
