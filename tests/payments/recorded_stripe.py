"""A stand-in for Stripe's API that answers with recorded responses (tests/payments/recorded/*.json), for
what localstripe cannot answer. It is a real HTTP server on 127.0.0.1, so the stripe adapter goes through
the whole SDK (encoding, headers, timeouts, error classes) as it would with Stripe.

A recording is a list of exchanges, played in order: each names the request it answers ("POST
/v1/payment_intents"), the status and the body Stripe sends back, optionally a `delay` before answering,
or `replay_of` (the index of an earlier exchange): Stripe's answer to a request repeated with the same
Idempotency-Key is the first answer again, with the header Idempotent-Replayed: true. Every request
received is kept (`requests`), with its headers and its form fields, for the tests to read.
"""

import json
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RECORDED = Path(__file__).with_name("recorded")


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict
    fields: dict  # the form body (POST) or the query (GET), keys as the SDK encodes them: "metadata[payment]"

    @property
    def idempotency_key(self) -> str:
        return self.headers.get("idempotency-key", "")


class RecordedStripe:
    def __init__(self):
        self.requests: list[Received] = []
        self.problems: list[str] = []
        self._exchanges: list[dict] = []
        self._played: list[dict] = []
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                url = urllib.parse.urlsplit(self.path)
                raw = self.rfile.read(length).decode() if length else url.query
                stub._serve(self, Received(method=self.command, path=url.path,
                                           headers={key.lower(): value for key, value in self.headers.items()},
                                           fields=dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))))

            do_GET = do_POST = do_DELETE = _answer

            def log_message(self, format, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def play(self, name: str) -> "RecordedStripe":
        recording = json.loads((RECORDED / f"{name}.json").read_text())
        offset = len(self._played) + len(self._exchanges)
        for exchange in recording["exchanges"]:
            if "replay_of" in exchange:
                exchange = {**exchange, "replay_of": exchange["replay_of"] + offset}
            self._exchanges.append(exchange)
        return self

    @property
    def pending(self) -> list[str]:
        return [exchange["request"] for exchange in self._exchanges]

    def _next(self, received: Received) -> dict | None:
        with self._lock:
            self.requests.append(received)
            if not self._exchanges:
                self.problems.append(f"unexpected {received.method} {received.path}")
                return None
            exchange = self._exchanges.pop(0)
            self._played.append(exchange)
            if exchange["request"] != f"{received.method} {received.path}":
                self.problems.append(f"expected {exchange['request']}, got {received.method} {received.path}")
                return None
            if "replay_of" in exchange:
                first = self._played[exchange["replay_of"]]
                return {**first, "headers": {**first.get("headers", {}), "Idempotent-Replayed": "true"}}
            return exchange

    def _serve(self, handler: BaseHTTPRequestHandler, received: Received) -> None:
        exchange = self._next(received)
        if exchange is None:
            exchange = {"status": 418, "body": {"error": {"type": "api_error", "message": "not in the recording"}}}
        time.sleep(exchange.get("delay", 0))
        body = json.dumps(exchange["body"]).encode()
        try:
            handler.send_response(exchange["status"])
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.send_header("Request-Id", f"req_recorded_{len(self.requests)}")
            for key, value in exchange.get("headers", {}).items():
                handler.send_header(key, value)
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped waiting (the timeout tests)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
