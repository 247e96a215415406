"""A local HTTP endpoint standing in for a chat service: Apprise's json:// posts here. It records what
it accepted and can refuse the next requests (status codes in `script`)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ChannelDouble:
    def __init__(self) -> None:
        self.accepted: list[dict] = []
        self.script: list[int] = []  # statuses for the next requests (then 200)
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> "ChannelDouble":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with double.lock:
                    status = double.script.pop(0) if double.script else 200
                    if status == 200:
                        double.accepted.append(json.loads(body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler
