"""The email services' inbound webhooks, one module each with the event webhooks' three functions:
`configured()` (its secret is set), `authenticate(request, body)` (as the service documents) and
`parse(request)` -> the messages it carries, read (tracking/replies/reading.py), or PayloadError.
InboundProvider says so for mypy, which checks each module against it (tracking/replies/views.py)."""

from dataclasses import dataclass, field
from typing import Any, Protocol

from django.http import HttpRequest

from tracking.replies.reading import Letter


@dataclass(frozen=True)
class Inbound:
    letter: Letter
    # Domains the service itself says passed DKIM for this message (SendGrid's "dkim" field), besides
    # the Authentication-Results header the message carries.
    dkim_domains: frozenset[str] = field(default_factory=frozenset)


class InboundProvider(Protocol):
    NAME: str  # the path's last part: /api/inbound/<NAME>
    FORMAT: str  # "json": parse(the body read as JSON); "form": parse(the request, whose POST holds the fields)

    def configured(self) -> bool:
        """Its secret is set: without it the endpoint answers 404."""
        ...

    def authenticate(self, request: HttpRequest, body: bytes) -> bool:
        """The request is the service's, as the service documents it."""
        ...

    def parse(self, data: Any) -> list[Inbound]:
        """The messages the body (FORMAT "json") or the request (FORMAT "form") carries, or PayloadError."""
        ...
