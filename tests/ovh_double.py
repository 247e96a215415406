"""A local stand-in for the OVH API, strict about what the real one checks: the application key,
the consumer key and the request signature. Used by the tests and the latency benchmark."""

import hashlib
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class OvhDouble:
    def __init__(self, *, app_key="ak-test", app_secret="as-test", consumer_key="ck-test", service="sms-ab12345-1"):
        self.app_key, self.app_secret, self.consumer_key, self.service = app_key, app_secret, consumer_key, service
        self.jobs: list[dict] = []  # SMS that "left"
        self.requests: list[tuple[str, str]] = []
        self.bad_signatures = 0
        # Scripted answers for the next POSTs: "ok", "500", or ("slow", seconds) = accept, then answer late.
        self.script: list = []
        # Handset receipts by SMS id: "delivered", "failed", or absent (not known yet).
        self.receipts: dict[int, str] = {}
        # Replies to our sender, by id, as GET /sms/{service}/incoming/{id} shows them.
        self.incoming: dict[int, dict] = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.running = False

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/1.0"

    def __enter__(self):
        self.thread.start()
        self.running = True
        return self

    def __exit__(self, *exc):
        self.go_down()

    def go_down(self) -> None:
        """An outage: the port is closed, connections are refused. The SMS already sent are kept."""
        if self.running:
            self.server.shutdown()
            self.server.server_close()
            self.running = False

    def come_back(self) -> None:
        """OVH is back on the same address, remembering every SMS it sent before the outage."""
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.running = True

    def reply(self, sender: str, message: str, at: str | None = None) -> int:
        """Someone answers an SMS: it waits in /sms/{service}/incoming until deleted."""
        # OVH dates a reply to the second. Rounded up, as a reply written after an SMS reads later than
        # it: rounded down, a reply in the same second as two SMS would be (truly) ambiguous.
        at = at or (datetime.now(UTC) + timedelta(seconds=1)).astimezone().isoformat(timespec="seconds")
        with self.lock:
            sms_id = 5000 + len(self.incoming) + len(self.requests)
            self.incoming[sms_id] = {
                "id": sms_id,
                "sender": sender,
                "message": message,
                "creationDatetime": at,
                "tag": "",
                "credits": 0,
            }
        return sms_id

    def auth_error(self, method: str, url: str, body: str, headers) -> tuple[int, dict] | None:
        """What OVH answers to a request whose keys or signature are wrong; None when all is right."""
        if headers.get("X-Ovh-Application") != self.app_key:
            return 403, {"errorCode": "INVALID_KEY", "message": "Invalid application key"}
        if headers.get("X-Ovh-Consumer") != self.consumer_key:
            return 403, {"errorCode": "INVALID_CREDENTIAL", "message": "This credential does not exist"}
        timestamp = headers.get("X-Ovh-Timestamp", "")
        expected = (
            "$1$"
            + hashlib.sha1(
                "+".join([self.app_secret, self.consumer_key, method, url, body, timestamp]).encode()
            ).hexdigest()
        )
        if headers.get("X-Ovh-Signature") != expected:
            return 400, {"errorCode": "INVALID_SIGNATURE", "message": "Invalid signature"}
        return None

    def _handler(self):
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, payload) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (timeout test)

            def _full_url(self) -> str:
                return f"http://{self.headers['Host']}{self.path}"

            def do_GET(self):
                parts = urlsplit(self.path)
                double.requests.append(("GET", parts.path))
                if parts.path == "/1.0/auth/time":
                    return self._answer(200, int(time.time()))
                refused = double.auth_error("GET", self._full_url(), "", self.headers)
                if refused:
                    double.bad_signatures += 1
                    return self._answer(*refused)
                if parts.path == f"/1.0/sms/{double.service}/outgoing":
                    query = parse_qs(parts.query)
                    with double.lock:
                        ids = [
                            j["id"]
                            for j in double.jobs
                            if j["tag"] == query.get("tag", [""])[0]
                            and query.get("receiver", [j["receivers"][0]])[0] in j["receivers"]
                        ]
                    return self._answer(200, ids)
                if parts.path == f"/1.0/sms/{double.service}/incoming":
                    with double.lock:
                        return self._answer(200, sorted(double.incoming))
                incoming = f"/1.0/sms/{double.service}/incoming/"
                if parts.path.startswith(incoming) and parts.path[len(incoming) :].isdigit():
                    with double.lock:
                        found = double.incoming.get(int(parts.path[len(incoming) :]))
                    return self._answer(200, found) if found else self._answer(404, {"message": "Not found"})
                prefix = f"/1.0/sms/{double.service}/outgoing/"
                if parts.path.startswith(prefix) and parts.path[len(prefix) :].isdigit():
                    sms_id = int(parts.path[len(prefix) :])
                    state = double.receipts.get(sms_id)
                    return self._answer(
                        200,
                        {
                            "id": sms_id,
                            "deliveredAt": "2026-11-24T09:15:02+01:00" if state == "delivered" else None,
                            "deliveryReceipt": {"delivered": 1, "failed": 2}.get(state or "", 0),
                            "ptt": 13 if state == "delivered" else 0,
                        },
                    )
                return self._answer(404, {"message": "Not found"})

            def do_DELETE(self):
                parts = urlsplit(self.path)
                double.requests.append(("DELETE", parts.path))
                refused = double.auth_error("DELETE", self._full_url(), "", self.headers)
                if refused:
                    double.bad_signatures += 1
                    return self._answer(*refused)
                incoming = f"/1.0/sms/{double.service}/incoming/"
                key = parts.path[len(incoming) :]
                with double.lock:
                    found = parts.path.startswith(incoming) and key.isdigit() and double.incoming.pop(int(key), None)
                return self._answer(200, None) if found else self._answer(404, {"message": "Not found"})

            def do_POST(self):
                parts = urlsplit(self.path)
                double.requests.append(("POST", parts.path))
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                refused = double.auth_error("POST", self._full_url(), body, self.headers)
                if refused:
                    double.bad_signatures += 1
                    return self._answer(*refused)
                if parts.path != f"/1.0/sms/{double.service}/jobs":
                    return self._answer(404, {"message": "Not found"})
                data = json.loads(body)
                with double.lock:
                    step = double.script.pop(0) if double.script else "ok"
                if step == "500":
                    return self._answer(500, {"message": "Internal server error"})
                with double.lock:
                    job = {"id": 1000 + len(double.jobs), **data}
                    double.jobs.append(job)
                if isinstance(step, tuple) and step[0] == "slow":
                    time.sleep(step[1])  # accepted, but the answer arrives after the client gave up
                return self._answer(
                    200,
                    {
                        "ids": [job["id"]],
                        "validReceivers": data["receivers"],
                        "invalidReceivers": [],
                        "totalCreditsRemoved": 1,
                    },
                )

        return Handler


def ovh_settings(double: OvhDouble, **extra) -> dict:
    return {
        "SMS_BACKEND": "ovh",
        "OVH_ENDPOINT": double.base_url,
        "OVH_APPLICATION_KEY": double.app_key,
        "OVH_APPLICATION_SECRET": double.app_secret,
        "OVH_CONSUMER_KEY": double.consumer_key,
        "OVH_SMS_SERVICE_NAME": double.service,
        "OVH_SMS_SENDER": "ArkWatch",
        **extra,
    }
