"""`tasklane receive`: a local endpoint that prints what Tasklane sends it.

For trying targets and notifications by hand: it answers 200 to everything (or the status
given with --status, with the JSON body given with --reply: a task type's target answering a
JSON object gives the task its result_meta) and, when it knows the signing secret, says
whether each notification's signature verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tasklane.signing import key_bytes


def serve(port: int, secrets: list[str], status: int, reply: str | None = None) -> None:
    answer = reply.encode() if reply else b""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            print(f"{self.command} {self.path}  {self._verdict(body)}")
            try:
                print("  " + json.dumps(json.loads(body)) if body else "  (no body)")
            except ValueError:
                print(f"  {body[:200]!r}")
            self.send_response(status)
            if answer:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def _verdict(self, body: bytes) -> str:
            header = self.headers.get("X-Taskhook-Signature")
            if not header:
                return f"attempt {self.headers.get('X-Tasklane-Attempt', '-')}"
            sent = {v.removeprefix("v1=") for v in header.split(",")}
            mine = {hmac.new(key_bytes(s), body, hashlib.sha256).hexdigest() for s in secrets}
            if not secrets:
                return "signed (pass --config with the signing secrets to verify)"
            return "signature OK" if sent & mine else "signature MISMATCH"

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, *args: object) -> None:
            pass

    print(f"listening on http://127.0.0.1:{port}, answering {status}", flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
