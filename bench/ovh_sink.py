"""A local OVH API double for benchmarks: answers what the `ovh` library asks when it sends an SMS
and notes when each SMS arrives. It does not check signatures (tests/ovh_double.py does, for the
tests; bench imports nothing from tests)."""

import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SERVICE = "sms-bench00-1"


class OvhSink:
    """`with OvhSink() as ovh:` … `ovh.arrivals` is a list of (epoch seconds, message)."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, str]] = []
        self.tags: list[tuple[str, str]] = []  # (tag, receiver) of every SMS that left
        # Replies waiting in /sms/{service}/incoming until the product deletes them (OVH_SMS_REPLIES).
        self.incoming: dict[int, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.up = False

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/1.0"

    def go_down(self) -> None:
        """An OVH outage: the port closes, connections are refused."""
        if self.up:
            self.server.shutdown()
            self.server.server_close()
            self.up = False

    def come_back(self) -> None:
        """OVH is back on the same address, remembering what it sent before."""
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.up = True

    def reply(self, sender: str, message: str) -> int:
        """The phone answers: the reply waits in /sms/{service}/incoming, timed now."""
        with self.lock:
            sms_id = 7000 + len(self.incoming) + len(self.arrivals)
            self.incoming[sms_id] = {
                "id": sms_id,
                "sender": sender,
                "message": message,
                "creationDatetime": datetime.now(UTC).isoformat(timespec="seconds"),
                "tag": "",
            }
        return sms_id

    def settings(self) -> dict[str, str]:
        """The product's environment that sends its SMS here."""
        return {
            "SMS_BACKEND": "ovh",
            "OVH_ENDPOINT": self.base_url,
            "OVH_APPLICATION_KEY": "bench-ak",
            "OVH_APPLICATION_SECRET": "bench-as",
            "OVH_CONSUMER_KEY": "bench-ck",
            "OVH_SMS_SERVICE_NAME": SERVICE,
        }

    def __enter__(self) -> "OvhSink":
        self.thread.start()
        self.up = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.go_down()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if path == "/1.0/auth/time":
                    return self._answer(200, int(time.time()))
                if path == f"/1.0/sms/{SERVICE}/incoming":
                    with sink.lock:
                        return self._answer(200, sorted(sink.incoming))
                if path.startswith(f"/1.0/sms/{SERVICE}/incoming/"):
                    with sink.lock:
                        found = sink.incoming.get(int(path.rsplit("/", 1)[1] or 0))
                    return self._answer(200, found) if found else self._answer(404, {"message": "Not found"})
                if path.startswith(f"/1.0/sms/{SERVICE}/outgoing"):
                    query = parse_qs(urlsplit(self.path).query)
                    tag, receiver = query.get("tag", [""])[0], query.get("receiver", [""])[0]
                    with sink.lock:
                        ids = [n + 1 for n, sent in enumerate(sink.tags) if sent == (tag, receiver)]
                    return self._answer(200, ids)
                return self._answer(404, {"message": "Not found"})

            def do_DELETE(self) -> None:
                path = urlsplit(self.path).path
                if path.startswith(f"/1.0/sms/{SERVICE}/incoming/"):
                    with sink.lock:
                        sink.incoming.pop(int(path.rsplit("/", 1)[1] or 0), None)
                    return self._answer(200, None)
                return self._answer(404, {"message": "Not found"})

            def do_POST(self) -> None:
                arrived = time.time()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if urlsplit(self.path).path != f"/1.0/sms/{SERVICE}/jobs":
                    return self._answer(404, {"message": "Not found"})
                data = json.loads(body)
                with sink.lock:
                    sink.arrivals.append((arrived, data.get("message", "")))
                    sink.tags.append((data.get("tag", ""), (data.get("receivers") or [""])[0]))
                    job_id = len(sink.arrivals)
                self._answer(
                    200,
                    {
                        "ids": [job_id],
                        "validReceivers": data.get("receivers", []),
                        "invalidReceivers": [],
                        "totalCreditsRemoved": 1,
                    },
                )

        return Handler
