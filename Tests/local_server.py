"""A small HTTP server on 127.0.0.1, on a thread of its own, with TLS from a throwaway CA: what the fake LivePerson,
the benchmark's LivePerson and the fake tenant each serve with."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from Tests.tls import server_context


class QuietHandler(BaseHTTPRequestHandler):
    """Keep-alive (as the clients' sessions expect) and no access log: each server keeps its own request log.
    GET and POST go to `_dispatch`, which each server writes.

    Nagle's algorithm is off, as in any real web server: with it, the last part of an answer written after its
    headers could wait for the client's delayed acknowledgement, 40 ms on Linux, on a random share of requests (the
    benchmark's rounds spread by a third because of it)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the server's own request log says what came."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        raise NotImplementedError


class LocalServer:
    """Serves `handler` on 127.0.0.1 (on `port`, or a free one) until `close`.

    With `tls_folder`, over HTTPS: a throwaway CA and server certificate are made there, the server's key leaves the
    disk once loaded, and `ca_bundle` is the CA certificate clients trust (the folder is the caller's to remove).
    """

    def __init__(self, handler: type[BaseHTTPRequestHandler], name: str, tls_folder: Path | None, port: int = 0) -> None:
        context, ca = server_context(tls_folder) if tls_folder is not None else (None, None)
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        if context is not None:
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        self.url = f"{'https' if context else 'http'}://{self.host}"
        self.ca_bundle = str(ca) if ca else ""
        # A short poll: `close` waits for the serving loop's next look, up to the poll interval (half a second by
        # default, which every test paid once or twice per server it stopped).
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name=name, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
