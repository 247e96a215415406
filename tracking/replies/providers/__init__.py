"""The email services' inbound webhooks, one module each with the event webhooks' three functions:
`configured()` (its secret is set), `authenticate(request, body)` (as the service documents) and
`parse(request)` -> the messages it carries, read (tracking/replies/reading.py), or PayloadError."""

from dataclasses import dataclass, field

from tracking.replies.reading import Letter


@dataclass(frozen=True)
class Inbound:
    letter: Letter
    # Domains the service itself says passed DKIM for this message (SendGrid's "dkim" field), besides
    # the Authentication-Results header the message carries.
    dkim_domains: frozenset[str] = field(default_factory=frozenset)
