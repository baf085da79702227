"""A fake LivePerson over real HTTPS: the Domain API, Sentinel (OAuth2 client credentials) and the Audit Trail.

The Audit Trail takes a Sentinel bearer or an API key's OAuth 1.0 signature (HMAC-SHA1, RFC 5849), which oauthlib's
`oauthlib.oauth1.rfc5849.signature` verifies (never the module's own signer): a wrong key, a signature that does not
verify, a nonce seen before or a timestamp more than `timestamp_window` seconds from the fake's clock is a 401. Its
answers' Date header is the fake's clock.

Faithful to ../shared/docs/liveperson-api.md; what the documentation leaves open is a constructor setting:
`expires_in` absent / number / string, GraphQL errors as 200 or 400, the largest `first` and what happens above it
(a silent cap or an error), the order of records within one second (kept, or shuffled on every query), when a record
becomes visible (a commit delay: up to `commit_delay` seconds after its time, so after later records), the zone
fromDate is read in (the requested one, or US/Eastern whatever is asked), what X-Total-Count counts (the whole
match or the page), the precision of changeDate (seconds or milliseconds), and what it does with `orderBy` columns
after `changeTimestamp` (sorts by them, refuses them, or ignores them). `BEHAVIOURS` names each.
The documentation gives no GraphQL types either: each of `orderBy`, `orderDirection` and `componentTypes` can be
typed as a list of strings, a list of enums, a plain string or a plain enum (`TYPINGS`), `fromDate` as a String or a
strict `Date` scalar, `actionType` can be missing from the record type, and introspection can be refused. The schema
text is built per instance (`schema_text`), and graphql-core validates every query against it.

A live account changes while a collector reads: with `live_edge` changes land between any two audit queries (at
random, with that chance), with `live_edge_at_end` right after a query that reached the end of its result (a short
or empty page); they are stamped near the fake's "now", or with `live_edge_late` some in the past, within the two
watched days. `fake.landed` logs each landing.
`fake.faults` injects failures; `fake.requests` records every request.
"""

from __future__ import annotations

import base64
import bisect
import json
import random
import re
import secrets
import shutil
import socket
import ssl
import struct
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import graphql
import pytz
from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1.rfc5849 import signature as oauth_signature

from Tests.fake_liveperson import data
from Tests.local_server import LocalServer, QuietHandler

SCHEMA_PATH = Path(__file__).with_name("audit_schema.graphql")
ACCOUNT_PATTERN = re.compile(r"[a-zA-Z0-9_]{1,20}")
TIE_COLUMNS = ("honoured", "refused", "ignored")
SERVICES = ("accountConfigReadOnly", "accountConfigReadWrite", "sentinel", "agentVep", "asyncMessagingEnt", "msgHist")


def load_schema() -> graphql.GraphQLSchema:
    return graphql.build_schema(SCHEMA_PATH.read_text())


# How an argument the documentation describes only as a "list" may really be typed: a list of strings (as the schema
# file has it), a list of enum values, a plain string or a plain enum value.
TYPINGS = ("strings", "enums", "string", "enum")
FROM_DATE_TYPES = ("String", "Date")  # a String, or a custom scalar that takes only a "YYYY-MM-DD" string literal
# The enum type each typed argument takes when it is typed as an enum, and the values it has.
ENUM_ARGUMENTS = {"orderBy": "AuditOrderColumn", "orderDirection": "OrderDirection", "componentTypes": "ComponentType"}


def order_columns(action_type: bool = True) -> tuple[str, ...]:
    """The columns the AuditOrderColumn enum has: changeTimestamp and each field of the record but changeDate."""
    return ("changeTimestamp", *(name for name in PUBLIC_FIELDS if action_type or name != "actionType"))


def schema_text(
    order_by: str = "strings",
    order_direction: str = "strings",
    component_types: str = "strings",
    from_date: str = "String",
    action_type: bool = True,
) -> str:
    """The schema file with each argument typed as asked (see TYPINGS), without actionType if it is absent."""
    text = SCHEMA_PATH.read_text()
    values = {
        "orderBy": order_columns(action_type),
        "orderDirection": ("ASC", "DESC"),
        "componentTypes": tuple(data.COMPONENT_TYPES),
    }
    typings = {"orderBy": order_by, "orderDirection": order_direction, "componentTypes": component_types}
    for argument, typing in typings.items():
        if typing not in TYPINGS:
            raise ValueError(f"{argument}: unknown typing {typing!r}; one of {', '.join(TYPINGS)}")
        inner = ENUM_ARGUMENTS[argument] if typing in ("enums", "enum") else "String"
        typed = f"[{inner}]" if typing in ("strings", "enums") else inner
        text = text.replace(f"    {argument}: [String]\n", f"    {argument}: {typed}\n", 1)
        if typing in ("enums", "enum"):
            text += f"\nenum {ENUM_ARGUMENTS[argument]} {{\n" + "".join(f"  {value}\n" for value in values[argument]) + "}\n"
    if from_date not in FROM_DATE_TYPES:
        raise ValueError(f"fromDate: unknown type {from_date!r}; one of {', '.join(FROM_DATE_TYPES)}")
    if from_date == "Date":
        text = text.replace("    fromDate: String\n", "    fromDate: Date\n", 1) + "\nscalar Date\n"
    if not action_type:
        text = text.replace("  actionType: String\n", "", 1)
    return text


def build_typed_schema(text: str) -> graphql.GraphQLSchema:
    """The schema of `text`; its Date scalar, if any, takes only a "YYYY-MM-DD" string literal, as a strict server's would."""
    schema = graphql.build_schema(text)
    date_type = schema.type_map.get("Date")
    if isinstance(date_type, graphql.GraphQLScalarType):

        def parse_date_literal(node: graphql.ValueNode, variables: dict[str, Any] | None = None) -> str:
            if not isinstance(node, graphql.StringValueNode) or not re.fullmatch(r"\d{4}-\d\d-\d\d", node.value):
                raise graphql.GraphQLError("Date takes a string YYYY-MM-DD")
            return node.value

        date_type.parse_literal = parse_date_literal  # type: ignore[method-assign,assignment]
    return schema


# The record's fields as the schema declares them (changeDate is rendered from the internal timestamp).
PUBLIC_FIELDS = tuple(
    name for name in graphql.assert_object_type(load_schema().type_map["AuditRecord"]).fields if name != "changeDate"
)


# ------------------------------------------------------------------ faults and the request log


@dataclass
class Fault:
    endpoint: str  # "domain", "token", "audit" or "any"
    kind: str  # status, expired_token, reset, slow, malformed_json, graphql_errors, no_data
    remaining: int
    options: dict[str, Any]


class FaultSchedule:
    """Faults consumed by the next matching requests, in the order they were added."""

    KINDS = ("status", "expired_token", "reset", "slow", "malformed_json", "graphql_errors", "no_data")

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, endpoint: str, kind: str, times: int = 1, **options: Any) -> None:
        if kind not in self.KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            self._faults.append(Fault(endpoint, kind, times, options))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> int:
        with self._lock:
            return sum(fault.remaining for fault in self._faults)

    def take(self, endpoint: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.endpoint in (endpoint, "any") and fault.remaining > 0:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None


@dataclass
class Landing:
    """Changes that landed while a collector read: when (the fake's clock), why, and how many records."""

    at: float
    reason: str  # "between queries", "after the end" or "late" (stamped in the past)
    count: int


@dataclass
class RequestRecord:
    at: float
    method: str
    path: str
    endpoint: str
    status: int | None = None
    fault: str | None = None
    audit_args: dict[str, Any] = field(default_factory=dict)
    auth: str = ""  # on the Audit Trail: "bearer", "oauth1" (a signature oauthlib verified), or why it was refused
    nonce: str = ""  # the OAuth 1.0 nonce of a verified signature


# ------------------------------------------------------------------ the server


class FakeLivePerson:
    """Start with `with FakeLivePerson() as fake:` (or start()/stop()); talk to it at fake.url, trusting fake.ca_bundle."""

    def __init__(
        self,
        account_id: str = data.ACCOUNT_ID,
        client_id: str = "fake-client-id",
        client_secret: str | None = None,
        api_key: tuple[str, str, str, str] | None = None,  # app key, secret, access token, access token secret
        timestamp_window: float = 300,  # an OAuth 1.0 timestamp further than this from the fake's clock is refused
        token_ttl: float = 3600,
        expires_in: str = "string",  # "absent", "number" or "string"
        max_first: int = 1000,
        over_max_first: str = "clamp",  # "clamp" or "error"
        graphql_error_status: int = 200,
        tie_order: str = "stable",  # "stable" or "shuffled"
        commit_delay: float = 0.0,  # a record becomes visible up to this many seconds after its changeDate
        commit_delay_share: float = 1.0,  # the share of records that are delayed at all
        from_date_zone: str = "requested",  # "requested" or "US/Eastern" (whatever timezone says)
        total_count: str = "match",  # X-Total-Count: "match" (the whole result) or "page"
        precision: str = "second",  # changeDate to the "second" (".0") or the "millisecond"
        order_by: str = "strings",  # how orderBy is typed: one of TYPINGS
        order_direction: str = "strings",  # how orderDirection is typed: one of TYPINGS
        component_types: str = "strings",  # how componentTypes is typed: one of TYPINGS
        from_date: str = "String",  # how fromDate is typed: one of FROM_DATE_TYPES
        action_type: bool = True,  # whether the record type has actionType
        introspection: bool = True,  # whether __schema / __type queries are answered or refused
        tie_columns: str = "honoured",  # orderBy columns after changeTimestamp: see TIE_COLUMNS and _ordered
        live_edge: float = 0.0,  # the chance that changes land before an audit query (between any two)
        live_edge_at_end: float = 0.0,  # the chance that changes land right after a query that reached its end
        live_edge_late: float = 0.0,  # the share of landings stamped in the past (within the watched days)
        live_edge_size: int = 3,  # at most this many records a landing
        clock: Callable[[], float] = time.time,
        seed: int = 0,
    ):
        if tie_columns not in TIE_COLUMNS:
            raise ValueError(f"tie_columns must be one of {TIE_COLUMNS}, not {tie_columns!r}")
        self.account_id = account_id
        self.client_id = client_id
        self.client_secret = client_secret or "fake-secret-" + secrets.token_hex(8)
        made = ("fake-app-key-", "fake-app-secret-", "fake-access-token-", "fake-token-secret-")
        self.api_key = api_key or tuple(prefix + secrets.token_hex(8) for prefix in made)
        self.timestamp_window = timestamp_window
        self._nonces: dict[str, float] = {}  # OAuth 1.0 nonces seen, with their timestamps
        self.token_ttl = token_ttl
        self.expires_in = expires_in
        self.max_first = max_first
        self.over_max_first = over_max_first
        self.graphql_error_status = graphql_error_status
        self.tie_order = tie_order
        self.commit_delay = commit_delay
        self.commit_delay_share = commit_delay_share
        self.from_date_zone = from_date_zone
        self.total_count = total_count
        self.precision = precision
        self.tie_columns = tie_columns
        self.live_edge = live_edge
        self.live_edge_at_end = live_edge_at_end
        self.live_edge_late = live_edge_late
        self.live_edge_size = live_edge_size
        self.landed: list[Landing] = []
        self.clock = clock
        self.faults = FaultSchedule()
        self.requests: list[RequestRecord] = []
        self.records: list[dict[str, Any]] = []
        self._sorted: list[tuple[datetime, int, dict[str, Any]]] = []
        self._tokens: dict[str, float] = {}
        self.issued_tokens: list[str] = []
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self.schema_text = schema_text(order_by, order_direction, component_types, from_date, action_type)
        self._schema = build_typed_schema(self.schema_text)
        self.fields = tuple(graphql.assert_object_type(self._schema.type_map["AuditRecord"]).fields)
        self._rules = (
            graphql.specified_rules
            if introspection
            else (*graphql.specified_rules, graphql.validation.NoSchemaIntrospectionCustomRule)
        )
        self._server: LocalServer | None = None
        self.ca_bundle = ""
        self.host = ""
        self.url = ""

    # -- life cycle

    def start(self, port: int = 0) -> FakeLivePerson:
        """Serves on 127.0.0.1 (on `port`, or a free one), trusting the CA bundle written into a new temporary folder."""
        tls_folder = Path(tempfile.mkdtemp(prefix="fake-liveperson-tls-"))
        self.ca_bundle = str(tls_folder / "ca.pem")  # from now on stop() removes the folder
        try:
            handler = type("Handler", (_Handler,), {"fake": self})
            self._server = LocalServer(handler, "fake-liveperson", tls_folder, port)
        except BaseException:
            self.stop()
            raise
        self.host, self.url = self._server.host, self._server.url
        return self

    def stop(self) -> None:
        if self._server:
            self._server.close()
            self._server = None
        if self.ca_bundle:
            shutil.rmtree(Path(self.ca_bundle).parent, ignore_errors=True)  # the folder start() made
            self.ca_bundle = ""

    def __enter__(self) -> FakeLivePerson:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- data

    def add_records(self, records: Iterable[dict[str, Any]]) -> None:
        """Appends records while serving (any time, also earlier ones: a late insert)."""
        with self._lock:
            for record in records:
                stored = dict(record)
                stored["seq"] = len(self.records)
                stored.setdefault("automatic", False)
                if self.precision == "millisecond" and not stored["timestamp"].microsecond:
                    stored["timestamp"] = stored["timestamp"].replace(microsecond=self._rng.randrange(1000) * 1000)
                delayed = self.commit_delay and self._rng.random() < self.commit_delay_share
                delay = self._rng.uniform(0, self.commit_delay) if delayed else 0.0
                stored.setdefault("visible_at", stored["timestamp"].timestamp() + delay)
                self.records.append(stored)
                bisect.insort(self._sorted, (stored["timestamp"], stored["seq"], stored))

    def land_changes(self, reason: str) -> list[dict[str, Any]]:
        """Changes that land now, as on a live account: 1 to `live_edge_size` records stamped within the last two
        seconds of the fake's clock, or (with the chance `live_edge_late`) one record stamped at a random moment of the
        watched days (yesterday and today, UTC) and visible from now on. Returns what landed."""
        now = self.clock()
        with self._lock:  # handler threads share the generator
            late = self._rng.random() < self.live_edge_late
            count = 1 if late else self._rng.randint(1, max(1, self.live_edge_size))
            if late:
                today = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
                start = (today - timedelta(days=1)).timestamp()
                moments = [self._rng.uniform(start, now)]
            else:
                moments = [now - self._rng.uniform(0, 2) for _ in range(count)]
            records = [data.make_record(datetime.fromtimestamp(moment, UTC), self._rng) for moment in moments]
        if late:
            records = [{**record, "visible_at": now} for record in records]
        self.add_records(records)
        self.landed.append(Landing(now, "late" if late else reason, len(records)))
        return records

    def _maybe_land(self, chance: float, reason: str) -> None:
        if chance <= 0:
            return
        with self._lock:
            lands = self._rng.random() < chance
        if lands:
            self.land_changes(reason)

    def expected(
        self,
        since: datetime | None = None,
        lpa: bool = True,
        automatic_updates: bool = False,
        component_types: Iterable[str] = (),
        users: Iterable[str] = (),
    ) -> list[dict[str, Any]]:
        """The ground truth a collector with these settings should deliver, oldest first, rendered in UTC."""
        with self._lock:
            rows = [row for _, _, row in self._sorted]
        rows = [row for row in rows if since is None or row["timestamp"] >= since]
        rows = self._filtered(rows, lpa, automatic_updates, list(component_types), list(users))
        return [self._render(row, self.fields, pytz.UTC) for row in rows]

    def count(self, endpoint: str) -> int:
        return sum(1 for request in self.requests if request.endpoint == endpoint)

    def revoke_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    # -- answers (called by the handler)

    def issue_token(self) -> dict[str, Any]:
        now = self.clock()
        header = _b64({"alg": "RS256", "typ": "JWT"})
        payload = _b64({"iat": int(now), "exp": int(now + self.token_ttl), "sub": self.client_id, "aud": self.account_id})
        token = f"{header}.{payload}.{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip('=')}"
        with self._lock:
            self._tokens[token] = now + self.token_ttl
            self.issued_tokens.append(token)
        answer: dict[str, Any] = {"access_token": token, "token_type": "Bearer"}
        if self.expires_in == "number":
            answer["expires_in"] = int(self.token_ttl)
        elif self.expires_in == "string":
            answer["expires_in"] = str(int(self.token_ttl))
        return answer

    def token_valid(self, token: str) -> bool:
        with self._lock:
            expiry = self._tokens.get(token)
        return expiry is not None and expiry > self.clock()

    def api_key_refusal(self, method: str, uri: str, authorization: str) -> str:
        """Why an `Authorization: OAuth ...` request is refused, or "" when oauthlib verifies its signature with the
        fake's API key and its timestamp and nonce are acceptable (the nonce is then remembered)."""
        app_key, app_secret, access_token, token_secret = self.api_key
        try:
            params = dict(
                oauth_signature.collect_parameters(headers={"Authorization": authorization}, exclude_oauth_signature=False)
            )
        except ValueError:
            return "malformed OAuth header"
        if params.get("oauth_signature_method") != "HMAC-SHA1" or params.get("oauth_version", "1.0") != "1.0":
            return "unsupported signature method or version"
        if params.get("oauth_consumer_key") != app_key or params.get("oauth_token") != access_token:
            return "unknown app key or access token"
        request = OAuthRequest(uri, method, headers={"Authorization": authorization})
        request.params = oauth_signature.collect_parameters(
            uri_query=urllib.parse.urlsplit(uri).query, headers={"Authorization": authorization}, exclude_oauth_signature=True
        )
        request.signature = params.get("oauth_signature", "")
        if not oauth_signature.verify_hmac_sha1(request, app_secret, token_secret):
            return "invalid signature"
        stamp, nonce = params.get("oauth_timestamp", ""), params.get("oauth_nonce", "")
        now = self.clock()
        if not stamp.isdigit() or abs(int(stamp) - now) > self.timestamp_window:
            return "timestamp out of range"
        with self._lock:
            if not nonce or nonce in self._nonces:
                return "nonce already used"
            self._nonces = {seen: at for seen, at in self._nonces.items() if abs(at - now) <= self.timestamp_window}
            self._nonces[nonce] = int(stamp)
        return ""

    def expire_token(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)

    def audit(self, query: str, log: RequestRecord) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Validates and runs one GraphQL query; returns (status, body, headers)."""
        try:
            document = graphql.parse(query)
        except graphql.GraphQLError as error:
            return self.graphql_error_status, {"errors": [{"message": error.message}]}, {}
        errors = graphql.validate(self._schema, document, self._rules)
        if errors:
            return self.graphql_error_status, {"errors": [{"message": error.message} for error in errors]}, {}
        total = {"count": 0, "end": False}
        self._maybe_land(self.live_edge, "between queries")

        def resolve_audit(info: Any, **arguments: Any) -> list[dict[str, Any]]:
            log.audit_args = arguments
            rows, total["count"], total["end"] = self._select(arguments)
            tz = pytz.timezone(arguments.get("timezone") or "US/Eastern")
            return [self._render(row, (*PUBLIC_FIELDS, "changeDate"), tz) for row in rows]

        result = graphql.execute_sync(self._schema, document, root_value={"auditData": resolve_audit})
        if result.errors:
            return self.graphql_error_status, {"errors": [{"message": error.message} for error in result.errors]}, {}
        if total["end"]:  # the answer is made: what lands now is seen only by the next query
            self._maybe_land(self.live_edge_at_end, "after the end")
        return 200, {"data": result.data}, {"X-Total-Count": str(total["count"])}

    def late_beyond(self, seconds: float) -> int:
        """How many records become visible more than `seconds` after their changeDate."""
        with self._lock:
            return sum(1 for row in self.records if row["visible_at"] - row["timestamp"].timestamp() > seconds)

    def _select(self, arguments: dict[str, Any]) -> tuple[list[dict[str, Any]], int, bool]:
        """The page asked for, X-Total-Count, and whether the page reached the end of the result (nothing after it)."""
        requested = arguments.get("timezone") or "US/Eastern"
        tz = pytz.timezone(requested if self.from_date_zone == "requested" else self.from_date_zone)
        with self._lock:
            rows = self._sorted
            if arguments.get("fromDate"):
                start = tz.localize(datetime.combine(date.fromisoformat(arguments["fromDate"]), datetime.min.time()))
                rows = rows[bisect.bisect_left(rows, (start.astimezone(UTC), -1)) :]
            if arguments.get("toDate"):
                end = tz.localize(
                    datetime.combine(date.fromisoformat(arguments["toDate"]) + timedelta(days=1), datetime.min.time())
                )
                rows = rows[: bisect.bisect_left(rows, (end.astimezone(UTC), -1))]
            now = self.clock()
            selected = [row for _, _, row in rows if row["visible_at"] <= now]
        selected = self._filtered(
            selected,
            bool(arguments.get("lpa", False)),
            bool(arguments.get("automaticUpdates", False)),
            as_list(arguments.get("componentTypes")),
            arguments.get("users") or [],
        )
        selected = self._ordered(
            selected,
            as_list(arguments.get("orderBy")) or ["changeTimestamp"],
            as_list(arguments.get("orderDirection")) or ["DESC"],
        )
        first = int(arguments["first"]) if arguments.get("first") is not None else 50
        if first > self.max_first:
            if self.over_max_first == "error":
                raise graphql.GraphQLError(f"first must be at most {self.max_first}")
            first = self.max_first
        offset = int(arguments.get("offset") or 0)
        page = selected[offset : offset + first]
        return page, len(selected) if self.total_count == "match" else len(page), offset + len(page) >= len(selected)

    def _ordered(self, rows: list[dict[str, Any]], order_by: list[str], directions: list[str]) -> list[dict[str, Any]]:
        """Sorted by `order_by` (changeTimestamp, or a record's field: another name is an error). Columns after
        changeTimestamp are sorted by ("honoured": a total order unless records are equal in all of them), refused
        (a GraphQL error) or ignored (ties keep the order `tie_order` gives), as `tie_columns` says."""
        unknown = [name for name in order_by if name == "changeDate" or name not in ("changeTimestamp", *self.fields)]
        if unknown:
            raise graphql.GraphQLError(f"orderBy: unknown column {unknown[0]}")
        if self.tie_columns == "refused" and any(name != "changeTimestamp" for name in order_by):
            raise graphql.GraphQLError("orderBy: only changeTimestamp is supported")
        columns = list(zip(order_by, directions + ["DESC"] * len(order_by), strict=False))
        if self.tie_columns == "ignored":
            columns = [column for column in columns if column[0] == "changeTimestamp"]
        if self.tie_order == "shuffled":
            rows = rows[:]
            with self._lock:  # handler threads share the generator
                self._rng.shuffle(rows)  # the sorts below are stable: records of one second keep this random order
        else:
            rows = sorted(rows, key=lambda row: row["seq"])
        for name, direction in reversed(columns):
            rows.sort(key=_sort_key("timestamp" if name == "changeTimestamp" else name), reverse=str(direction).upper() == "DESC")
        return rows

    @staticmethod
    def _filtered(
        rows: list[dict[str, Any]], lpa: bool, automatic: bool, types: list[str], users: list[str]
    ) -> list[dict[str, Any]]:
        # componentTypes names components (ACUserObject); records carry the display name (Users).
        wanted_types = {data.COMPONENT_TYPES[name] for name in types if name in data.COMPONENT_TYPES}
        return [
            row
            for row in rows
            if (lpa or not row["originatorIsLpa"])
            and (automatic or not row.get("automatic"))
            and (not types or row["objectType"] in wanted_types)
            and (not users or row["originatorLoginName"] in users or row["originatorUserId"] in users)
        ]

    @staticmethod
    def _render(row: dict[str, Any], fields: Iterable[str], tz: Any) -> dict[str, Any]:
        rendered = {name: row.get(name) for name in fields if name != "changeDate"}
        moment = row["timestamp"].astimezone(tz)
        fraction = f"{moment.microsecond // 1000:03d}" if moment.microsecond else "0"
        rendered["changeDate"] = moment.strftime("%Y-%m-%d %H:%M:%S") + "." + fraction
        return rendered


def as_list(value: Any) -> list[Any]:
    """An argument's values whether it is typed as a list or a single value (None: not given)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _sort_key(name: str) -> Callable[[dict[str, Any]], tuple[bool, Any]]:
    """Orders by one column, records without it last."""

    def key(row: dict[str, Any]) -> tuple[bool, Any]:
        return (row.get(name) is None, row.get(name))

    return key


def _b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


# ------------------------------------------------------------------ HTTP


class _Handler(QuietHandler):
    fake: FakeLivePerson  # its request log is fake.requests

    def _dispatch(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        endpoint, account, rest = self._route(method, url.path)
        log = RequestRecord(time.time(), method, url.path, endpoint)
        self.fake.requests.append(log)
        if endpoint == "unknown":
            return self._answer(log, 404, {"error": "not found"})
        if not ACCOUNT_PATTERN.fullmatch(account):
            return self._answer(log, 400, {"error": "invalid account id"})
        if account != self.fake.account_id:
            return self._answer(log, 401, {"error": "unknown account"})
        if endpoint == "audit" and not self._authorised(log):  # checked first, so a faulted attempt's signature is too
            return self._answer(log, 401, {"error": "unauthorized"})
        fault = self.fake.faults.take(endpoint)
        if fault is not None:
            log.fault = fault.kind
            if self._apply_fault(fault, log):
                return None
        if endpoint == "domain":
            return self._domain(log, rest)
        if endpoint == "token":
            return self._token(log, body)
        return self._audit(log, body)

    @staticmethod
    def _route(method: str, path: str) -> tuple[str, str, str]:
        patterns = [
            ("GET", r"/api/account/([^/]*)/service/([^/]+)/baseURI\.json", "domain"),
            ("GET", r"/api/account/([^/]*)/service/baseURI\.json()", "domain"),
            ("POST", r"/sentinel/api/v2/account/([^/]*)/app/token()", "token"),
            ("POST", r"/sentinel/api/account/([^/]*)/app/token()", "token"),
            ("POST", r"/api/account/([^/]*)/configuration/metadata/audit()", "audit"),
        ]
        for allowed, pattern, endpoint in patterns:
            match = re.fullmatch(pattern, path)
            if match and method == allowed:
                return endpoint, match.group(1), match.group(2)
        return "unknown", "", ""

    def _apply_fault(self, fault: Fault, log: RequestRecord) -> bool:
        """Answers for the fault and returns True, or returns False to go on answering normally (slow)."""
        options = fault.options
        if fault.kind == "status":
            headers = {"Retry-After": str(options["retry_after"])} if options.get("retry_after") is not None else {}
            self._answer(log, int(options.get("code", 500)), {"error": "injected"}, headers)
        elif fault.kind == "expired_token":
            self.fake.expire_token(self._bearer())
            self._answer(log, 401, {"error": "token expired"})
        elif fault.kind == "reset":
            log.status = None
            self.close_connection = True
            raw = self.connection
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raw.close()
        elif fault.kind == "slow":
            time.sleep(float(options.get("seconds", 5)))
            return False
        elif fault.kind == "malformed_json":
            self._answer_raw(log, 200, b'{"data": {"auditData": [{"accountId": ', {})
        elif fault.kind == "graphql_errors":
            self._answer(log, 200, {"errors": [{"message": options.get("message", "Internal error while fetching data")}]})
        elif fault.kind == "no_data":
            self._answer(log, 200, options.get("body", {}))
        return True

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header: the fake's clock, as a server's own."""
        return super().date_time_string(self.fake.clock() if timestamp is None else timestamp)

    def _bearer(self) -> str:
        value = self.headers.get("Authorization", "")
        return value[len("Bearer ") :] if value.startswith("Bearer ") else ""

    def _domain(self, log: RequestRecord, service: str) -> None:
        if service and service not in SERVICES:
            return self._answer(log, 404, {"error": f"unknown service {service}"})
        entries = [{"service": name, "account": self.fake.account_id, "baseURI": self.fake.host} for name in SERVICES]
        if service:
            return self._answer(log, 200, entries[SERVICES.index(service)])
        return self._answer(log, 200, {"baseURIs": entries})

    def _token(self, log: RequestRecord, body: bytes) -> None:
        if not self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            return self._answer(log, 400, {"error": "invalid_request"})
        form = urllib.parse.parse_qs(body.decode())
        if form.get("grant_type") != ["client_credentials"]:
            return self._answer(log, 400, {"error": "unsupported_grant_type"})
        if form.get("client_id") != [self.fake.client_id] or form.get("client_secret") != [self.fake.client_secret]:
            return self._answer(log, 401, {"error": "invalid_client"})
        return self._answer(log, 200, self.fake.issue_token())

    def _authorised(self, log: RequestRecord) -> bool:
        """Whether an Audit Trail request carries a valid bearer or API key signature; `log.auth` says which, or why not."""
        authorization = self.headers.get("Authorization", "")
        if authorization.startswith("OAuth "):
            uri = f"https://{self.headers.get('Host', self.fake.host)}{self.path}"
            log.auth = self.fake.api_key_refusal(log.method, uri, authorization) or "oauth1"
            if log.auth == "oauth1":
                log.nonce = dict(oauth_signature.collect_parameters(headers={"Authorization": authorization}))["oauth_nonce"]
        else:
            log.auth = "bearer" if self.fake.token_valid(self._bearer()) else "invalid bearer"
        return log.auth in ("oauth1", "bearer")

    def _audit(self, log: RequestRecord, body: bytes) -> None:
        try:
            query = json.loads(body)["query"]
        except (ValueError, KeyError, TypeError):
            return self._answer(log, 400, {"error": "the body must be JSON with a query"})
        status, answer, headers = self.fake.audit(str(query), log)
        return self._answer(log, status, answer, headers)

    def _answer(self, log: RequestRecord, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self._answer_raw(log, status, json.dumps(body).encode(), headers or {})

    def _answer_raw(self, log: RequestRecord, status: int, payload: bytes, headers: dict[str, str]) -> None:
        log.status = status
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True
