"""``POST /articles``: the push endpoint for systems that already scrape.

    POST /articles
    Authorization: Bearer <DEFWATCH_PUSH_TOKEN>
    Content-Type: application/json
    {"id": "...", "url": "...", "title": "...", "published": "2024-03-05", "source": "...", "text": "..."}
    (or a JSON array of up to MAX_BATCH such objects)

    202 {"accepted": n, "ids": [...]}        taken; extraction follows
    400 not JSON  401 no or wrong token  404 other path  405 other method  411 no Content-Length
    413 body over the limit  415 not application/json  422 an article failed validation (nothing taken;
    the errors name each article and field)

``GET /healthz`` answers 200 without a token (for probes). Articles that fail validation on an
authenticated request are also dead-lettered with their reason; unauthenticated requests never reach
the pipeline.
"""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from extractors import Article
from streams.inputs import InputError, parse_article

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_BATCH = 100


class PushServer:
    def __init__(self, token: str, accept: Callable[[list[Article]], None], reject: Callable[[InputError], None],
                 host: str = "127.0.0.1", port: int = 8089, max_bytes: int = MAX_BODY_BYTES,
                 log: Callable[[str], None] = print) -> None:
        if len(token) < 16:
            raise ValueError("the push token must be at least 16 characters")
        self.token = token.encode()
        self.accept, self.reject, self.max_bytes, self.log = accept, reject, max_bytes, log
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="defwatch-push", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else host
        return f"http://{name}:{port}"

    def start(self) -> PushServer:
        self.thread.start()
        self.log(f"push endpoint on {self.url}/articles")
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "defwatch"
            sys_version = ""

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path == "/healthz":
                    return self._send(200, {"ok": True})
                if self.path == "/articles":
                    return self._send(405, {"error": "use POST"}, {"Allow": "POST"})
                self._send(404, {"error": "not found"})

            def do_PUT(self) -> None:
                self._send(405, {"error": "use POST /articles"}, {"Allow": "POST"})

            do_DELETE = do_PATCH = do_PUT

            def do_POST(self) -> None:
                if self.path.split("?")[0] != "/articles":
                    return self._send(404, {"error": "not found; POST /articles"})
                given = self.headers.get("Authorization", "")
                if not given.startswith("Bearer ") or not hmac.compare_digest(given[7:].strip().encode(), owner.token):
                    return self._send(401, {"error": "missing or wrong bearer token"},
                                      {"WWW-Authenticate": 'Bearer realm="defwatch"'})
                if "json" not in (self.headers.get("Content-Type") or "").lower():
                    return self._send(415, {"error": "send Content-Type: application/json"})
                length = self.headers.get("Content-Length")
                if length is None or not length.isdigit():
                    return self._send(411, {"error": "Content-Length required"})
                if int(length) > owner.max_bytes:
                    self.close_connection = True
                    return self._send(413, {"error": f"body of {int(length):,} bytes is over the "
                                                     f"{owner.max_bytes:,}-byte limit"})
                raw = self.rfile.read(int(length))
                try:
                    doc = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    return self._send(400, {"error": f"body is not JSON: {exc}"})
                records = doc if isinstance(doc, list) else [doc]
                if not records or len(records) > MAX_BATCH:
                    return self._send(422, {"error": f"send one article or an array of 1 to {MAX_BATCH}"})
                parsed = [parse_article(r, f"push item {i}") for i, r in enumerate(records)]
                errors = [p for p in parsed if isinstance(p, InputError)]
                if errors:
                    for e in errors:
                        owner.reject(e)
                    return self._send(422, {"error": "invalid article(s); nothing was accepted",
                                            "problems": [{"item": e.ref, "problem": e.problem} for e in errors]})
                articles = [p for p in parsed if isinstance(p, Article)]
                try:
                    owner.accept(articles)
                except Exception as exc:  # the queue or Kafka is down: the client should retry
                    owner.log(f"push: could not take {len(articles)} article(s): {exc}")
                    return self._send(503, {"error": "temporarily unavailable; retry"}, {"Retry-After": "5"})
                self._send(202, {"accepted": len(articles), "ids": [a.id for a in articles]})

        return Handler
