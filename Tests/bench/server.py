"""The benchmark's LivePerson: answers from precomputed bytes, so that the server costs next to nothing.

The Domain API, Sentinel and the Audit Trail over HTTPS, like `Tests/fake_liveperson`, but made for speed rather
than for faults: each record's JSON is rendered once, when the record is added, and a page is those bytes joined.
The Audit Trail serves what a collector asks of it (fromDate, first, offset, ascending changeTimestamp, timezone
UTC) and refuses, with a GraphQL error that says so, what it does not do (toDate, users, componentTypes, another
order or zone). Records are added in time order only, so the order never needs sorting.

Every request is logged with its method, path, headers and body, so that the floors of the benchmark can replay
exactly the calls a fetch-events run made. `respond` is the whole server without sockets, for in-process runs.
"""

from __future__ import annotations

import base64
import bisect
import json
import re
import secrets
import tempfile
import threading
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from Tests.fake_liveperson import data
from Tests.fake_liveperson.server import PUBLIC_FIELDS
from Tests.local_server import LocalServer, QuietHandler

FIELDS = (*PUBLIC_FIELDS, "changeDate")
ARGUMENT = re.compile(r'(\w+)\s*:\s*("(?:[^"\\]|\\.)*"|\[[^\]]*\]|[\w.-]+)')
QUERY = re.compile(r"\{\s*auditData\s*(?:\((?P<arguments>[^)]*)\))?\s*\{(?P<selection>[^}]*)\}\s*\}\s*")
SUPPORTED = {
    "orderBy": ['"changeTimestamp"'],
    "orderDirection": ['"ASC"'],
    "timezone": ['"UTC"'],
}
IGNORED = ("lpa", "automaticUpdates", "language")  # the bench's records are neither LPA nor automatic updates


@dataclass
class LoggedRequest:
    endpoint: str  # domain, token, audit or unknown
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 0


class BenchLivePerson:
    """Start with `with BenchLivePerson() as server:`; talk to it at server.url, trusting server.ca_bundle."""

    def __init__(self, account_id: str = data.ACCOUNT_ID, client_id: str = "bench-client-id") -> None:
        self.account_id = account_id
        self.client_id = client_id
        self.client_secret = "bench-secret-" + secrets.token_hex(8)
        self.requests: list[LoggedRequest] = []
        self.records: list[dict[str, Any]] = []  # as served, in order: the ground truth
        self._days: list[str] = []  # each record's UTC day, for bisect
        self._rendered: dict[tuple[str, ...], list[bytes]] = {FIELDS: []}
        self._tokens: set[str] = set()
        self._lock = threading.Lock()
        self._server: LocalServer | None = None
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self.ca_bundle = self.host = self.url = ""

    # -- life cycle

    def start(self) -> BenchLivePerson:
        self._folder = tempfile.TemporaryDirectory(prefix="liveperson-bench-tls-")
        handler = type("Handler", (_Handler,), {"server_model": self})
        self._server = LocalServer(handler, "bench-liveperson", Path(self._folder.name))
        self.ca_bundle, self.host, self.url = self._server.ca_bundle, self._server.host, self._server.url
        return self

    def stop(self) -> None:
        if self._server:
            self._server.close()
            self._server = None
        if self._folder:
            self._folder.cleanup()  # the throwaway CA leaves with the server
            self._folder = None

    def __enter__(self) -> BenchLivePerson:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- data

    def add_records(self, records: Iterable[dict[str, Any]]) -> None:
        """Appends records made by `data.make_record`, none older than the newest one already served."""
        with self._lock:
            for record in records:
                when = record["timestamp"].astimezone(UTC)
                served = {name: record.get(name) for name in PUBLIC_FIELDS}
                served["changeDate"] = when.strftime("%Y-%m-%d %H:%M:%S") + ".0"
                if self.records and served["changeDate"] < self.records[-1]["changeDate"]:
                    raise ValueError("the benchmark's server takes records in time order only")
                self.records.append(served)
                self._days.append(when.date().isoformat())
                for selection, rendered in self._rendered.items():
                    rendered.append(_render(served, selection))

    # -- answers

    def respond(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        """One request, answered: (status, JSON body). Logged, whatever the answer."""
        endpoint, account, service = _route(method, urllib.parse.urlsplit(path).path)
        log = LoggedRequest(endpoint, method, path, {k: v for k, v in headers.items() if k.lower() in _REPLAYED}, body)
        self.requests.append(log)
        log.status, answer = self._answer(endpoint, account, service, headers, body)
        return log.status, answer if isinstance(answer, bytes) else json.dumps(answer).encode()

    def _answer(self, endpoint: str, account: str, service: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        if endpoint == "unknown":
            return 404, {"error": "not found"}
        if account != self.account_id:
            return 401, {"error": "unknown account"}
        if endpoint == "domain":
            return 200, {"service": service, "account": self.account_id, "baseURI": self.host}
        if endpoint == "token":
            return self._token(body)
        if _bearer(headers) not in self._tokens:
            return 401, {"error": "unauthorized"}
        try:
            query = str(json.loads(body)["query"])
        except (ValueError, KeyError, TypeError):
            return 400, {"error": "the body must be JSON with a query"}
        return self._audit(query)

    def _token(self, body: bytes) -> tuple[int, Any]:
        form = urllib.parse.parse_qs(body.decode())
        if form.get("client_id") != [self.client_id] or form.get("client_secret") != [self.client_secret]:
            return 401, {"error": "invalid_client"}
        payload = base64.urlsafe_b64encode(json.dumps({"sub": self.client_id}).encode()).decode().rstrip("=")
        token = f"e30.{payload}.{secrets.token_urlsafe(16)}"
        self._tokens.add(token)  # tokens never expire here: the steady-state day runs on the collector's virtual clock
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": "3600"}

    def _audit(self, query: str) -> tuple[int, Any]:
        match = QUERY.fullmatch(query.strip())
        if not match:
            return 200, {"errors": [{"message": "the benchmark's server reads one auditData query only"}]}
        arguments = dict(ARGUMENT.findall(match["arguments"] or ""))
        selection = tuple(match["selection"].split())
        problem = _unsupported(arguments, selection)
        if problem:
            return 200, {"errors": [{"message": f"the benchmark's server does not do this: {problem}"}]}
        first = int(arguments.get("first", "50"))
        offset = int(arguments.get("offset", "0"))
        with self._lock:
            start = bisect.bisect_left(self._days, json.loads(arguments["fromDate"])) if "fromDate" in arguments else 0
            rendered = self._rendered.get(selection)
            if rendered is None:  # rendered once per new field selection, then kept up to date by add_records
                rendered = self._rendered[selection] = [_render(record, selection) for record in self.records]
            page = rendered[start + offset : start + offset + first]
        return 200, b'{"data": {"auditData": [' + b", ".join(page) + b"]}}"


_REPLAYED = ("authorization", "content-type", "accept")


def _render(record: dict[str, Any], selection: tuple[str, ...]) -> bytes:
    return json.dumps({name: record[name] for name in selection}).encode()


def _bearer(headers: dict[str, str]) -> str:
    value = next((value for name, value in headers.items() if name.lower() == "authorization"), "")
    return value.removeprefix("Bearer ")


def _unsupported(arguments: dict[str, str], selection: tuple[str, ...]) -> str:
    for name, value in arguments.items():
        if name in SUPPORTED:
            if [part.strip() for part in value.strip("[]").split(",")] != SUPPORTED[name]:
                return f"{name}: {value}"
        elif name not in ("fromDate", "first", "offset", *IGNORED):
            return f"the argument {name}"
    unknown = [name for name in selection if name not in FIELDS]
    return f"the fields {', '.join(unknown)}" if unknown else ""


ROUTES = [
    ("GET", re.compile(r"/api/account/([^/]*)/service/([^/]+)/baseURI\.json"), "domain"),
    ("POST", re.compile(r"/sentinel/api/v2/account/([^/]*)/app/token()"), "token"),
    ("POST", re.compile(r"/api/account/([^/]*)/configuration/metadata/audit()"), "audit"),
]


def _route(method: str, path: str) -> tuple[str, str, str]:
    for allowed, pattern, endpoint in ROUTES:
        match = pattern.fullmatch(path)
        if match and method == allowed:
            return endpoint, match.group(1), match.group(2)
    return "unknown", "", ""


class _Handler(QuietHandler):
    server_model: BenchLivePerson  # its request log is server.requests

    def _dispatch(self, method: str) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, payload = self.server_model.respond(method, self.path, dict(self.headers.items()), body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
