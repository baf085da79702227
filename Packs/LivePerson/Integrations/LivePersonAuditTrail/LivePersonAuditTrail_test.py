"""Unit tests of the LivePerson Audit Trail integration: HTTP mocked with requests-mock, time with freezegun."""

import contextlib
import email.utils
import functools
import json
import math
import random
import re
import sys
import threading
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import demistomock as demisto
import LivePersonAuditTrail as lp
import pytest
import requests
import yaml
from freezegun import freeze_time
from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1.rfc5849 import signature as oauth_signature

TEST_DATA = Path(__file__).parent / "test_data"
ACCOUNT = "12345678"
SECRET = "s3cr3t-client-secret-value"
DOMAIN_URL = f"https://api.liveperson.net/api/account/{ACCOUNT}/service/accountConfigReadOnly/baseURI.json?version=1.0"
SENTINEL_DOMAIN_URL = f"https://api.liveperson.net/api/account/{ACCOUNT}/service/sentinel/baseURI.json?version=1.0"
TOKEN_URL = f"https://va.sentinel.liveperson.net/sentinel/api/v2/account/{ACCOUNT}/app/token"
AUDIT_URL = f"https://va.ac.liveperson.net/api/account/{ACCOUNT}/configuration/metadata/audit"
NOW = "2026-11-24T12:00:00Z"


def load(name: str) -> Any:
    return json.loads((TEST_DATA / name).read_text())


def base_params(**overrides: Any) -> dict[str, Any]:
    params = {
        "account_id": ACCOUNT,
        "credentials": {"identifier": "client-id-1", "password": SECRET},
        "domain_api_url": "https://api.liveperson.net",
        "first_fetch": "2026-11-19T00:00:00Z",
        "max_fetch": "5000",
        "page_size": "500",
        "lpa": True,
        "automatic_updates": False,
    }
    params.update(overrides)
    return params


@dataclass
class Platform:
    """What the platform keeps and shows for one instance, driven through the demisto functions the module calls."""

    params: dict[str, Any] = field(default_factory=base_params)
    args: dict[str, Any] = field(default_factory=dict)
    command: str = "fetch-events"
    last_run: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    sent: list[list[dict[str, Any]]] = field(default_factory=list)
    health: list[dict[str, Any]] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    refuse_sends: int = 0

    @property
    def events(self) -> list[dict[str, Any]]:
        return [event for batch in self.sent for event in batch]


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> Platform:
    state = Platform()

    def roundtrip(value: Any) -> Any:
        return json.loads(json.dumps(value))

    def set_last_run(value: dict) -> None:
        state.last_run = roundtrip(value)

    def set_context(value: dict) -> None:
        state.context = roundtrip(value)

    def send(events: list[dict], vendor: str, product: str, **kwargs: Any) -> None:
        assert (vendor, product) == ("liveperson", "liveengage")
        assert kwargs.get("data_format") == "json" or isinstance(events[0], dict)
        if state.refuse_sends:
            state.refuse_sends -= 1
            raise lp.DemistoException("XSIAM refused the batch")
        state.sent.append([json.loads(event) if isinstance(event, str) else roundtrip(event) for event in events])

    monkeypatch.setattr(demisto, "params", lambda: state.params)
    monkeypatch.setattr(demisto, "args", lambda: state.args)
    monkeypatch.setattr(demisto, "command", lambda: state.command)
    monkeypatch.setattr(demisto, "getLastRun", lambda: roundtrip(state.last_run))
    monkeypatch.setattr(demisto, "setLastRun", set_last_run)
    monkeypatch.setattr(demisto, "getIntegrationContext", lambda: roundtrip(state.context))
    monkeypatch.setattr(demisto, "setIntegrationContext", set_context)
    monkeypatch.setattr(demisto, "updateModuleHealth", lambda data, is_error=False: state.health.append(data))
    monkeypatch.setattr(demisto, "results", lambda value: state.results.append(value))
    for level in ("debug", "info", "error"):
        monkeypatch.setattr(demisto, level, lambda message, *rest: state.logs.append(str(message)))
    monkeypatch.setattr(lp, "send_events_to_xsiam", send)
    return state


def record(when: str, name: str = "Dana Agent", element: str = "Skills", new: str = "Sales", **extra: Any) -> dict[str, Any]:
    base = load("audit_page.json")["data"]["auditData"][0]
    return {**base, "objectName": name, "element": element, "newValue": new, "changeDate": f"{when}.0", **extra}


@functools.cache
def typed_schema(typing: tuple[tuple[str, Any], ...]) -> Any:
    """The fake LivePerson's schema with these settings (built once: building takes longer than validating)."""
    from Tests.fake_liveperson.server import build_typed_schema, schema_text  # noqa: PLC0415

    return build_typed_schema(schema_text(**dict(typing)))


@functools.cache
def judged(shape: str, typing: tuple[tuple[str, Any], ...], introspection: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """graphql-core's errors for a query and the fields it selects. Queries are judged by shape (every digit read as
    1): a page's numbers and dates never change whether it is valid, and validating each page took minutes."""
    import graphql  # noqa: PLC0415 - a test-only dependency

    document = graphql.parse(shape)
    rules = [*graphql.specified_rules, *([] if introspection else [graphql.validation.NoSchemaIntrospectionCustomRule])]
    errors = tuple(error.message for error in graphql.validate(typed_schema(typing), document, rules))
    node = document.definitions[0].selection_set.selections[0]  # type: ignore[attr-defined]
    return errors, tuple(selection.name.value for selection in node.selection_set.selections)


def page_queries(api: "AuditBackend") -> list[str]:
    """The queries that read pages (with an offset), not those that learned the schema."""
    return [query for query in api.queries if "offset:" in query]


def knows_schema(platform: Platform, schema: lp.AuditSchema = lp.DOCUMENTED_SCHEMA, component_types: bool = False) -> None:
    """An instance whose earlier run learned `schema` (kept in its integration context), so no query learns it."""
    scope = f"https://api.liveperson.net|{ACCOUNT}|{'componentTypes' if component_types else '-'}"
    platform.context["audit_schema"] = {"scope": scope, "value": schema.to_json(), "expires_at": 4e9}


class AuditBackend:
    """A small in-memory Audit Trail behind requests-mock: fromDate (whole days), ascending order, first/offset.

    graphql-core validates every query against the fake LivePerson's schema (`typing`: its constructor's schema
    settings; by default the documentation's lists of strings, with actionType, introspection refused), and a query
    it refuses gets a GraphQL error, as a server would answer. Answers hold the fields the query selects.
    Ties in changeDate keep insertion order, as a database does for an unchanged result, unless `shuffle_ties` is
    set (each query then orders a second's records anew). The documentation leaves more open, and each can be
    played: `cap` (at most that many records a page, silently), `cap_error` (a GraphQL error above `cap`), `zone`
    (the zone fromDate is read in), `hidden` (records not visible yet), and what it does with orderBy columns after
    changeTimestamp (`tie_columns`): "ignored" (ties ordered as without them), "honoured" (ties ordered by them; those
    in `refused_columns` refused with a GraphQL error) or "refused" (any of them refused).

    A live account changes while a run reads. With `live_edge` (the random generator that decides), changes land
    before a query with the chance `live_edge_chance`, and right after a query that reached the end of its result
    with the chance `live_edge_at_end`: 1 to 3 records stamped within two seconds before now, or, with the chance
    `live_edge_late`, one record stamped at a moment of the watched days (yesterday and today, UTC), seen from now on.
    `landed` lists (when it landed, record).
    """

    def __init__(self, records: list[dict[str, Any]] | None = None):
        self.records: list[dict[str, Any]] = list(records or [])
        self.queries: list[str] = []
        self.cap: int | None = None
        self.cap_error = False
        self.shuffle_ties: random.Random | None = None
        self.zone = "UTC"
        self.hidden: list[dict[str, Any]] = []
        self.tie_columns = "ignored"
        self.refused_columns: set[str] = set()
        self.typing: dict[str, Any] = {}
        self.introspection = False
        self.live_edge: random.Random | None = None
        self.live_edge_chance = 0.05
        self.live_edge_at_end = 0.3
        self.live_edge_late = 0.0
        self.landed: list[tuple[datetime, dict[str, Any]]] = []

    def land(self) -> None:
        """Changes that land now (the clock is the test's, frozen or moved by freezegun)."""
        rng, now = self.live_edge or random.Random(0), datetime.now(UTC).replace(microsecond=0)
        if rng.random() < self.live_edge_late:
            yesterday = now.replace(hour=0, minute=0, second=0) - timedelta(days=1)
            moments = [yesterday + timedelta(seconds=rng.randint(0, int((now - yesterday).total_seconds())))]
        else:
            moments = [now - timedelta(seconds=rng.randint(0, 2)) for _ in range(rng.randint(1, 3))]
        for moment in moments:
            landed = record(moment.strftime("%Y-%m-%d %H:%M:%S"), name=f"landed-{len(self.landed)}")
            self.records.append(landed)
            self.landed.append((now, landed))

    def ordered(self) -> list[dict[str, Any]]:
        return [r for _, r in sorted(enumerate(self.records), key=lambda item: (item[1]["changeDate"], item[0]))]

    def reveal(self) -> None:
        self.records += self.hidden
        self.hidden = []

    def __call__(self, request: Any, context: Any) -> dict[str, Any]:
        import graphql  # noqa: PLC0415 - a test-only dependency

        query = request.json()["query"]
        self.queries.append(query)
        if self.live_edge is not None and self.live_edge.random() < self.live_edge_chance:
            self.land()
        typing = tuple(sorted(self.typing.items()))
        errors, selected = judged(re.sub(r"\d", "1", query), typing, self.introspection)
        if errors:
            return {"errors": [{"message": message} for message in errors]}
        if "__schema" in query:
            return {"data": graphql.execute_sync(typed_schema(typing), graphql.parse(query)).data}
        from_date = (re.search(r'fromDate: "([\d-]+)"', query) or [None, None])[1]
        first = int((re.search(r"first: (\d+)", query) or [None, 50])[1])
        offset = int((re.search(r"offset: (\d+)", query) or [None, 0])[1])
        if self.cap is not None and self.cap_error and first > self.cap:
            return {"errors": [{"message": f"Validation error: first must be at most {self.cap}"}]}
        order = re.search(r"orderBy: \[([^]]*)\]", query)
        columns = re.findall(r"\w+", order.group(1))[1:] if order else []
        if columns and (self.tie_columns == "refused" or self.refused_columns & set(columns)):
            return {"errors": [{"message": "Validation error: orderBy"}]}
        rows = self.ordered()
        if self.shuffle_ties is not None:
            keys = {id(row): self.shuffle_ties.random() for row in rows}
            rows.sort(key=lambda row: (row["changeDate"], keys[id(row)]))
        if self.tie_columns == "honoured" and columns:
            rows.sort(key=lambda row: (row["changeDate"], *(str(row.get(name)) for name in columns)))
        if from_date:
            starts = self.day_start(from_date)
            rows = [r for r in rows if r["changeDate"][:19] >= starts]
        page = rows[offset:][: min(first, self.cap or first)]
        context.headers["X-Total-Count"] = str(len(page))
        reached_end = offset + len(page) >= len(rows)
        if reached_end and self.live_edge is not None and self.live_edge.random() < self.live_edge_at_end:
            self.land()  # the answer is made: only the next query sees these
        return {"data": {"auditData": [{name: row.get(name) for name in selected} for row in page]}}

    def day_start(self, day: str) -> str:
        midnight = datetime.fromisoformat(day)
        if self.zone == "US/Eastern":
            import pytz  # noqa: PLC0415

            moment = pytz.timezone("US/Eastern").localize(midnight).astimezone(UTC)
            return moment.strftime("%Y-%m-%d %H:%M:%S")
        return midnight.strftime("%Y-%m-%d %H:%M:%S")


@pytest.fixture
def api(requests_mock: Any) -> AuditBackend:
    backend = AuditBackend()
    requests_mock.get(DOMAIN_URL, json=load("domain.json"))
    requests_mock.get(SENTINEL_DOMAIN_URL, json=load("domain_sentinel.json"))
    requests_mock.post(TOKEN_URL, json=load("token.json"))
    requests_mock.post(AUDIT_URL, json=backend)
    return backend


def make_client(params: dict[str, Any] | None = None, budget: float = 150, **kwargs: Any) -> lp.AuditTrailClient:
    clock = FakeClock()
    return lp.AuditTrailClient(
        lp.Settings.from_params(params or base_params()), clock=clock, sleep=clock.sleep, time_budget=budget, **kwargs
    )


class FakeClock:
    """A monotonic clock that only sleeping moves, so retry pauses take no real time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def run_fetch(platform: Platform, **param_overrides: Any) -> int:
    platform.params = base_params(**param_overrides)
    settings = lp.Settings.from_params(platform.params)
    return lp.fetch_events_command(make_client(platform.params), settings)


# ---------------------------------------------------------------- settings and arguments


SENTINEL = "Authorization server (Sentinel) host"
MAX_FETCH = "Maximum number of events per fetch"
# The wrong values users really type, per setting: (settings changed, the setting the message must name).
BAD_SETTINGS = [
    ({"auth_server_url": "https://"}, SENTINEL),
    ({"auth_server_url": "http://va.sentinel.liveperson.net"}, SENTINEL),
    ({"auth_server_url": "https://va.sentinel.liveperson.net/sentinel/api"}, SENTINEL),
    ({"auth_server_url": "va sentinel"}, SENTINEL),
    ({"auth_server_url": "va.sentinel.liveperson.net?x=1"}, SENTINEL),
    ({"account_id": ""}, "Account ID"),
    ({"account_id": " "}, "Account ID"),
    ({"account_id": "12-34"}, "Account ID"),
    ({"account_id": "le@12345678"}, "Account ID"),
    ({"account_id": "a" * 21}, "Account ID"),
    ({"credentials": {"identifier": "", "password": SECRET}}, "Client ID"),
    ({"credentials": {"identifier": "id", "password": ""}}, "Client secret"),
    ({"credentials": {"identifier": "id", "password": "   "}}, "Client secret"),
    ({"credentials": None}, "Client ID"),
    ({"domain_api_url": "http://api.liveperson.net"}, "Domain API URL"),
    ({"domain_api_url": "https://api.liveperson.net/api"}, "Domain API URL"),
    ({"domain_api_url": "api liveperson"}, "Domain API URL"),
    ({"first_fetch": "yesterday-ish nonsense"}, "First fetch time"),
    ({"first_fetch": "2099-01-01T00:00:00Z"}, "First fetch time"),
    ({"max_fetch": "-5"}, MAX_FETCH),
    ({"max_fetch": "0"}, MAX_FETCH),
    ({"max_fetch": "1000000"}, MAX_FETCH),
    ({"max_fetch": "ten"}, MAX_FETCH),
    ({"max_fetch": "1.5"}, MAX_FETCH),
    ({"page_size": "5"}, "Page size"),
    ({"page_size": "5000"}, "Page size"),
    ({"page_size": "-1"}, "Page size"),
    ({"component_types": "ACUserObject,,ACSkillObject"}, "Component types"),
    ({"component_types": "ACUserObject,"}, "Component types"),
    ({"component_types": "AC User Object"}, "Component types"),
    ({"users": "alice, ,bob"}, "Users"),
    ({"lpa": "maybe"}, "Include changes made by LivePerson administrators (LPA)"),
    ({"automatic_updates": "2"}, "Include automatic updates"),
    ({"insecure": "sure"}, "Trust any certificate (not secure)"),
    ({"proxy": "on"}, "Use system proxy settings"),
]
# Wrong command arguments of liveperson-get-events: (arguments, the argument the message must name).
BAD_ARGUMENTS = [
    ({"limit": "0"}, "limit"),
    ({"limit": "-3"}, "limit"),
    ({"limit": "100000"}, "limit"),
    ({"limit": "lots"}, "limit"),
    ({"limit": " "}, None),  # blank means the default: not an error
    ({"start_time": "not a date"}, "start_time"),
    ({"start_time": "2099-01-01"}, "start_time"),
    ({"end_time": "whenever"}, "end_time"),
    ({"start_time": "1 day", "end_time": "3 days"}, "end_time"),
    ({"should_push_events": "perhaps"}, "should_push_events"),
    ({"colour": "red"}, "colour"),
    ({"limit": "5", "strat_time": "1 day"}, "strat_time"),
]
BAD_INPUT_MATRIX = [
    pytest.param(command, {}, overrides, named, id=f"{command}-{next(iter(overrides))}-{index}")
    for command in ("test-module", "fetch-events", "liveperson-get-events")
    for index, (overrides, named) in enumerate(BAD_SETTINGS)
] + [
    pytest.param("liveperson-get-events", args, {}, named, id=f"get-events-arg-{index}")
    for index, (args, named) in enumerate(BAD_ARGUMENTS)
]


@freeze_time(NOW)
@pytest.mark.parametrize(("command", "args", "overrides", "named"), BAD_INPUT_MATRIX)
def test_bad_input_matrix(
    platform: Platform, api: AuditBackend, requests_mock: Any, command: str, args: dict, overrides: dict, named: str | None
) -> None:
    """
    Given a setting or a command argument with a value users really type wrongly
    When test-module, fetch-events or liveperson-get-events runs through main
    Then the error names that setting or argument and says what is expected; nothing is called or sent,
    and the last run is unchanged (a blank that means "default" is no error)
    """
    platform.command, platform.args, platform.params = command, args, base_params(**overrides)
    platform.last_run = {"keep": "me"}
    api.records = [record("2026-11-23 10:00:00")]
    if named is None:
        lp.main()
        assert not any(isinstance(entry, dict) and entry.get("Type") == 4 for entry in platform.results)
        return
    with pytest.raises(SystemExit):
        lp.main()
    error = platform.results[-1]
    assert error["Type"] == 4
    assert f'"{named}"' in error["Contents"]
    assert any(word in error["Contents"] for word in ("must", "use", "give", "fill", "Use", "expected", "from"))
    assert requests_mock.call_count == 0
    assert platform.sent == []
    assert platform.last_run == {"keep": "me"}
    assert SECRET not in json.dumps(platform.results)


@freeze_time(NOW)
def test_settings_accept_host_with_https_and_clamp_old_first_fetch(platform: Platform) -> None:
    """
    Given a Sentinel host written with https:// and a first fetch older than LivePerson keeps
    When the settings are read
    Then the host is kept bare and the first fetch is moved to 13 months ago with a log line
    """
    settings = lp.Settings.from_params(
        base_params(auth_server_url="https://lo.sentinel.liveperson.net/", first_fetch="2020-01-01T00:00:00Z")
    )
    assert settings.sentinel_host == "lo.sentinel.liveperson.net"
    assert settings.first_fetch == datetime(2025, 10, 24, 12, tzinfo=UTC)
    assert any("older than LivePerson keeps" in line for line in platform.logs)
    assert SECRET not in repr(settings)


QUICK_TIMES = [
    "3 days",
    "1 minute",
    "12 hours ago",
    "2 weeks",
    "1 month",
    "1 Year",
    "3 DAYS",
    "10 minutes",
    "5 seconds",
    " 7 days ",
    "2026-11-19",
    "2026-11-19T00:00:00Z",
    "2026-11-19T10:11:12.5+02:00",
    "2026-11-19 10:11",
    "2026-11-19T10:11:12-05:00",
]


@freeze_time(NOW)
@pytest.mark.parametrize("text", QUICK_TIMES)
def test_usual_times_are_read_as_the_platform_reads_them(text: str) -> None:
    """
    Given a time in one of the two usual shapes (a relative "3 days", or ISO 8601)
    When the module reads it without the platform's dateparser
    Then it is the time the platform's arg_to_datetime gives, to the microsecond
    """
    now = datetime.now(UTC)
    quick = lp.quick_time(text, now)
    platform_reading = lp.arg_to_datetime(text, is_utc=True, required=True)
    platform_reading = platform_reading.replace(tzinfo=UTC) if platform_reading.tzinfo is None else platform_reading
    assert quick is not None
    assert (quick.replace(tzinfo=UTC) if quick.tzinfo is None else quick) == platform_reading.astimezone(UTC)
    assert lp.parse_time(text, "start_time", now) == platform_reading.astimezone(UTC)


@pytest.mark.parametrize(
    "text", ["yesterday", "in 3 days", "3 fortnights", "2026-11-19Z", "2026-13-01", "1700000000", "999999 years"]
)
def test_other_times_are_left_to_the_platform(text: str) -> None:
    """
    Given a time in another shape, or not a time
    When the module's quick reading is asked
    Then it declines, so the platform's arg_to_datetime decides what it is
    """
    assert lp.quick_time(text, datetime(2026, 11, 24, tzinfo=UTC)) is None


@freeze_time(NOW)
def test_settings_defaults(platform: Platform) -> None:
    """
    Given only the required settings
    When the settings are read
    Then the documented defaults apply: first fetch three days ago, 5000 events, page 500, LPA on, automatic off
    """
    settings = lp.Settings.from_params(
        {
            "auth_server_url": "va.sentinel.liveperson.net",
            "account_id": ACCOUNT,
            "credentials": {"identifier": "i", "password": "p"},
        }
    )
    assert settings.first_fetch == datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert lp.Settings(account_id=ACCOUNT, client_id="i", client_secret="p").first_fetch == settings.first_fetch
    assert (settings.max_fetch, settings.page_size) == (5000, 500)
    assert settings.filters == lp.AuditFilters(lpa=True, automatic_updates=False)
    assert settings.domain_api_url == "https://api.liveperson.net"


# ---------------------------------------------------------------- query builder


def test_query_builder_renders_every_argument_and_field() -> None:
    """
    Given every documented argument of auditData
    When the query is built
    Then each appears with its GraphQL literal and every documented field is selected
    """
    body = lp.build_audit_query(
        lp.AuditQuery(
            from_date=date(2024, 5, 1),
            to_date=date(2024, 5, 2),
            first=500,
            offset=1000,
            users=("alice", 'bob "the" admin'),
            component_types=("ACUserObject", "ACSkillObject"),
            language="en-US",
            lpa=True,
            automatic_updates=False,
        )
    )
    query = body["query"]
    assert query.startswith('{auditData(fromDate: "2024-05-01", toDate: "2024-05-02", first: 500, offset: 1000, ')
    assert 'orderBy: ["changeTimestamp"], orderDirection: ["ASC"]' in query
    assert 'users: ["alice", "bob \\"the\\" admin"]' in query
    assert 'componentTypes: ["ACUserObject", "ACSkillObject"]' in query
    assert 'language: "en-US", timezone: "UTC", lpa: true, automaticUpdates: false)' in query
    assert query.endswith("{" + " ".join(lp.AUDIT_FIELDS) + "}}")


def test_query_builder_leaves_out_unset_arguments() -> None:
    """
    Given a query with only paging set
    When it is built
    Then no argument left to LivePerson's default is sent, but UTC and ascending order always are
    """
    query = lp.build_audit_query(lp.AuditQuery(first=1, offset=0))["query"]
    assert query.startswith(
        '{auditData(first: 1, offset: 0, orderBy: ["changeTimestamp"], orderDirection: ["ASC"], timezone: "UTC")'
    )
    for absent in ("fromDate", "toDate", "users", "componentTypes", "language", "lpa", "automaticUpdates"):
        assert absent not in query.split("{", 2)[1]


# ---------------------------------------------------------------- tokens


@freeze_time(NOW)
@pytest.mark.parametrize(
    ("answer", "lifetime"),
    [
        ({"expires_in": 7200}, 7200),
        ({"expires_in": "1800"}, 1800),
        ({"expires_in": "soon"}, 3600),
        ({}, 3600),
    ],
)
def test_token_lifetime_from_expires_in(answer: dict, lifetime: float) -> None:
    """
    Given a Sentinel answer whose expires_in is a number, a string, garbage or absent (and a token that is no JWT)
    When the lifetime is computed
    Then numbers and numeric strings are used, and anything else falls back to an hour
    """
    assert lp.token_lifetime(answer, "opaque-token") == lifetime


@freeze_time(NOW)
def test_token_lifetime_from_jwt_exp() -> None:
    """
    Given a Sentinel answer without expires_in and a JWT whose exp is 20 minutes ahead
    When the lifetime is computed
    Then the JWT's exp is used
    """
    now = datetime(2026, 11, 24, 12, tzinfo=UTC).timestamp()
    payload = lp.base64.urlsafe_b64encode(json.dumps({"exp": now + 1200}).encode()).decode().rstrip("=")
    assert lp.token_lifetime({}, f"e30.{payload}.sig") == pytest.approx(1200)


def test_token_is_cached_and_renewed_before_expiry(platform: Platform, requests_mock: Any) -> None:
    """
    Given a Sentinel host set in the instance and a token answer with expires_in 600
    When a bearer is asked for now, 8 minutes later and 9.5 minutes later
    Then one token call serves the first two and a new one is asked inside the last minute of its life
    """
    requests_mock.post(TOKEN_URL, [{"json": {"access_token": "t1", "expires_in": 600}}, {"json": {"access_token": "t2"}}])
    with freeze_time(NOW) as frozen:
        client = make_client(base_params(auth_server_url="va.sentinel.liveperson.net"))
        assert client.auth.bearer() == "t1"
        frozen.tick(timedelta(minutes=8))
        assert client.auth.bearer() == "t1"
        frozen.tick(timedelta(seconds=90))
        assert client.auth.bearer() == "t2"
    assert requests_mock.call_count == 2
    form = requests_mock.request_history[0].text
    assert "grant_type=client_credentials" in form
    assert "client_id=client-id-1" in form


@pytest.mark.parametrize(
    ("given", "hint"),
    [
        ("va.sentinel.liveperson.net", f'"{SENTINEL}" is your account\'s region (or leave it empty to find it)'),
        ("", "the Domain API named this host for the account"),
    ],
)
def test_token_refused_says_which_settings(
    platform: Platform, api: AuditBackend, requests_mock: Any, given: str, hint: str
) -> None:
    """
    Given Sentinel refuses the credentials (401), at a host set in the instance or found through the Domain API
    When a token is asked for
    Then the error names the host, the client ID and secret settings and where the host came from, never the secret
    """
    requests_mock.post(TOKEN_URL, status_code=401, json={"error": "invalid_client", "echo": SECRET})
    with pytest.raises(lp.AuthenticationError) as raised:
        make_client(base_params(auth_server_url=given)).auth.renew()
    assert "LivePerson Sentinel at va.sentinel.liveperson.net refused the client credentials (401)" in str(raised.value)
    assert '"Client ID" and "Client secret"' in str(raised.value)
    assert hint in str(raised.value)
    assert SECRET not in str(raised.value)


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_empty_sentinel_host_is_found_through_the_domain_api(
    platform: Platform, api: AuditBackend, requests_mock: Any, blank: str | None
) -> None:
    """
    Given an instance with only the account ID, client ID and secret (the Sentinel host left empty)
    When a token is asked for twice, and again after the token expired
    Then the Domain API names the Sentinel host once, the token comes from that host, and both stay cached
    """
    platform.params = base_params(auth_server_url=blank)
    assert lp.Settings.from_params(platform.params).sentinel_host is None
    requests_mock.post(TOKEN_URL, [{"json": {"access_token": "t1", "expires_in": 600}}, {"json": {"access_token": "t2"}}])
    with freeze_time(NOW) as frozen:
        client = make_client(platform.params)
        assert client.auth.bearer() == "t1"
        assert client.auth.bearer() == "t1"
        frozen.tick(timedelta(minutes=10))
        assert client.auth.bearer() == "t2"
    assert [r.url for r in requests_mock.request_history] == [SENTINEL_DOMAIN_URL, TOKEN_URL, TOKEN_URL]
    assert platform.context["sentinel_host"]["value"] == "va.sentinel.liveperson.net"


def test_given_sentinel_host_overrides_the_domain_api(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given a Sentinel host set in the instance (written with https://)
    When a token is asked for
    Then it comes from that host, and the Domain API is not asked for Sentinel
    """
    other = f"https://lo.sentinel.liveperson.net/sentinel/api/v2/account/{ACCOUNT}/app/token"
    requests_mock.post(other, json={"access_token": "from-lo"})
    assert make_client(base_params(auth_server_url="https://lo.sentinel.liveperson.net")).auth.bearer() == "from-lo"
    assert [r.url for r in requests_mock.request_history] == [other]


@pytest.mark.parametrize("failure", [{"exc": requests.exceptions.ConnectionError}, {"status_code": 404}])
def test_cached_sentinel_host_that_fails_is_found_again(
    platform: Platform, api: AuditBackend, requests_mock: Any, failure: dict
) -> None:
    """
    Given a cached Sentinel host that no longer answers (connection failure) or no longer serves tokens (404)
    When a token is asked for
    Then the Domain API is asked again at once, without retry pauses, and the token comes from the host it names now
    """
    platform.context = {
        "sentinel_host": {
            "scope": f"https://api.liveperson.net|{ACCOUNT}",
            "value": "sy.sentinel.liveperson.net",
            "expires_at": 9e12,
        }
    }
    requests_mock.post(f"https://sy.sentinel.liveperson.net/sentinel/api/v2/account/{ACCOUNT}/app/token", **failure)
    client = make_client()
    assert client.auth.renew() == load("token.json")["access_token"]
    assert platform.context["sentinel_host"]["value"] == "va.sentinel.liveperson.net"
    assert client._clock.pauses == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("va.sentinel.liveperson.net", f'set "{SENTINEL}" to your region, for example va.sentinel.liveperson.net, or leave it'),
        ("", f'va.sentinel.liveperson.net, the host the Domain API named for the account, (404): set "{SENTINEL}"'),
    ],
)
def test_sentinel_without_token_service_names_the_setting(
    platform: Platform, api: AuditBackend, requests_mock: Any, given: str, message: str
) -> None:
    """
    Given a Sentinel host, set or found, that answers 404 to the token request
    When a token is asked for
    Then the error names the host and the Sentinel host setting
    """
    requests_mock.post(TOKEN_URL, status_code=404)
    with pytest.raises(lp.ServiceNotFoundError, match=re.escape(message)):
        make_client(base_params(auth_server_url=given)).auth.renew()


# ---------------------------------------------------------------- API keys (OAuth 1.0), judged by oauthlib

API_KEY = {
    "api_key_credentials": {"identifier": "app-key-d392e7ff", "password": "consumer-secret-6c80"},
    "access_token_credentials": {"identifier": "token-61adad31", "password": "token-secret-4e6f"},
}
API_KEY_SECRETS = ("app-key-d392e7ff", "consumer-secret-6c80", "token-61adad31", "token-secret-4e6f")


def api_key_params(**overrides: Any) -> dict[str, Any]:
    """An instance set up with an API key's four values, the client credentials left empty as the platform leaves them."""
    return base_params(credentials={"identifier": "", "password": ""}, **API_KEY, **overrides)


def header_params(authorization: str) -> dict[str, str]:
    """The oauth_ parameters of an Authorization header, decoded, as oauthlib reads them."""
    return dict(oauth_signature.collect_parameters(headers={"Authorization": authorization}, exclude_oauth_signature=False))


def oauth_header(request: Any) -> dict[str, str]:
    return header_params(request.headers["Authorization"])


def oauthlib_verifies(method: str, url: str, authorization: str, consumer_secret: str, token_secret: str) -> bool:
    """oauthlib's own verdict on a request's OAuth 1.0 HMAC-SHA1 signature (the parameters it signs: the URL's query and
    the oauth_ header parameters; a JSON body is not form-encoded, so it is not among them)."""
    checked = OAuthRequest(url, method, headers={"Authorization": authorization})
    checked.params = oauth_signature.collect_parameters(
        uri_query=urllib.parse.urlsplit(url).query, headers={"Authorization": authorization}, exclude_oauth_signature=True
    )
    checked.signature = header_params(authorization)["oauth_signature"]
    return oauth_signature.verify_hmac_sha1(checked, consumer_secret, token_secret)


def signed_by_the_key(request: Any) -> bool:
    return oauthlib_verifies(
        request.method, request.url, request.headers["Authorization"], "consumer-secret-6c80", "token-secret-4e6f"
    )


def audit_calls(requests_mock: Any) -> list[Any]:
    return [r for r in requests_mock.request_history if r.url == AUDIT_URL]


@pytest.mark.parametrize(
    "url",
    [
        AUDIT_URL,
        "https://VA.ac.LivePerson.net:443/api/account/12345678/configuration/metadata/audit?v=1.0",
        "https://127.0.0.1:8443/a%20b/c?b=2&a=1&a=0&empty=&plus=x+y&tilde=~&space=%20&slash=%2F&uni=%C3%A9%E2%82%AC",
        "http://example.com:80/?name=a%26b%3Dc&oauth_extra=1",
    ],
)
def test_the_api_key_signature_is_what_oauthlib_computes(url: str) -> None:
    """
    Given URLs with upper-case hosts, default and other ports, repeated, empty and encoded query parameters, "+", "~"
    and non-ASCII characters
    When the API key signs a POST to each
    Then oauthlib builds the same signature base string and verifies the signature; with one wrong secret it does not
    """
    signer = lp.ApiKeySigner(lp.ApiKey("app-key-d392e7ff", "consumer-secret-6c80", "token-61adad31", "token-secret-4e6f"))
    header = signer.header("POST", url)
    params = header_params(header)
    collected = oauth_signature.collect_parameters(
        uri_query=urllib.parse.urlsplit(url).query, headers={"Authorization": header}, exclude_oauth_signature=True
    )
    expected_base = oauth_signature.signature_base_string(
        "POST", oauth_signature.base_string_uri(url), oauth_signature.normalize_parameters(collected)
    )
    assert lp.signature_base_string("POST", url, {k: v for k, v in params.items() if k != "oauth_signature"}) == expected_base
    assert oauthlib_verifies("POST", url, header, "consumer-secret-6c80", "token-secret-4e6f")
    assert not oauthlib_verifies("POST", url, header, "consumer-secret-6c80", "token-secret-WRONG")
    assert not oauthlib_verifies("POST", url, header, "consumer-secret-WRONG", "token-secret-4e6f")
    assert params["oauth_signature_method"] == "HMAC-SHA1" and params["oauth_version"] == "1.0"


def test_secrets_with_reserved_characters_are_encoded_in_the_key() -> None:
    """
    Given an API key whose secrets hold "&", "%", spaces and non-ASCII characters
    When it signs a request
    Then oauthlib verifies the signature with those secrets (RFC 5849 section 3.4.2 encodes each in the HMAC key)
    """
    signer = lp.ApiKeySigner(lp.ApiKey("key", "a&b %c=é", "token", "t&k+n~/"))
    header = signer.header("POST", AUDIT_URL)
    assert oauthlib_verifies("POST", AUDIT_URL, header, "a&b %c=é", "t&k+n~/")


@freeze_time(NOW)
def test_audit_queries_are_signed_with_the_api_key(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given an instance set up with an API key's four values
    When a query runs
    Then the Audit Trail request carries an OAuth 1.0 header with the app key and access token, the time now and a
    nonce, that oauthlib verifies; no Sentinel host is looked up and no token asked for
    """
    knows_schema(platform)  # learned by an earlier run: this test is about what follows
    api.records = [record("2026-11-23 10:00:00")]
    settings = lp.Settings.from_params(api_key_params())
    assert settings.auth_method == lp.AUTH_API_KEY and lp.AUTH_METHOD_NAMES[settings.auth_method] == "API key, OAuth 1.0"
    records = make_client(api_key_params()).query_audit(lp.AuditQuery(first=10, offset=0))
    assert len(records) == 1
    assert [r.url for r in requests_mock.request_history] == [DOMAIN_URL, AUDIT_URL]
    audit = requests_mock.request_history[-1]
    params = oauth_header(audit)
    assert audit.headers["Authorization"].startswith("OAuth ")
    assert (params["oauth_consumer_key"], params["oauth_token"]) == ("app-key-d392e7ff", "token-61adad31")
    assert params["oauth_timestamp"] == str(int(datetime(2026, 11, 24, 12, tzinfo=UTC).timestamp()))
    assert len(params["oauth_nonce"]) >= 16
    assert signed_by_the_key(audit)
    assert audit.json()["query"].startswith("{auditData(")  # the body is the usual JSON, unsigned


def test_every_retry_is_signed_afresh(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given the Audit Trail answers 500, 429, a reset connection and then the records, to a client using an API key
    When a query runs with the retry policy
    Then each of the four attempts carries its own nonce and a signature oauthlib verifies, with the time of that
    attempt (the retries' pauses move the clock)
    """
    knows_schema(platform)  # learned by an earlier run: this test is about what follows
    api.records = [record("2026-11-23 10:00:00")]
    requests_mock.post(
        AUDIT_URL,
        [{"status_code": 500}, {"status_code": 429}, {"exc": requests.exceptions.ConnectionError("reset")}, {"json": api}],
    )
    with freeze_time(NOW) as frozen:
        client = make_client(api_key_params())
        client._sleep = lambda seconds: frozen.tick(timedelta(seconds=seconds))  # type: ignore[method-assign]
        assert len(client.query_audit(lp.AuditQuery(first=10, offset=0))) == 1
    attempts = audit_calls(requests_mock)
    assert len(attempts) == 4
    assert all(map(signed_by_the_key, attempts))
    assert len({oauth_header(r)["oauth_nonce"] for r in attempts}) == 4
    stamps = [int(oauth_header(r)["oauth_timestamp"]) for r in attempts]
    assert stamps == sorted(stamps) and stamps[-1] - stamps[0] >= 5 + 1 + 10  # the pauses for 500, 429, the reset


def test_a_401_is_signed_afresh_once(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given the Audit Trail refuses the first signed request (401) and accepts the next
    When a query runs with an API key
    Then the query is asked once more, freshly signed, and its records come back; Sentinel is never asked
    """
    knows_schema(platform)  # learned by an earlier run: this test is about what follows
    api.records = [record("2026-11-23 10:00:00")]
    requests_mock.post(AUDIT_URL, [{"status_code": 401}, {"json": api}])
    assert len(make_client(api_key_params()).query_audit(lp.AuditQuery(first=10, offset=0))) == 1
    attempts = audit_calls(requests_mock)
    assert len(attempts) == 2 and all(map(signed_by_the_key, attempts))
    assert oauth_header(attempts[0])["oauth_nonce"] != oauth_header(attempts[1])["oauth_nonce"]
    assert not any("sentinel" in r.url for r in requests_mock.request_history)


@pytest.mark.parametrize(
    ("date_offset", "message"),
    [
        (None, "no Date header to compare the engine's clock with"),
        (0, '"App key", "Secret", "Access token", "Access token secret"'),
        (-600, "this engine's clock is 600 s ahead of LivePerson's"),
        (900, "this engine's clock is 900 s behind LivePerson's"),
    ],
)
def test_a_second_401_says_what_to_check_from_the_clocks(
    platform: Platform, api: AuditBackend, requests_mock: Any, date_offset: int | None, message: str
) -> None:
    """
    Given the Audit Trail refuses the API key twice, its answer's Date header absent, in step with the engine's clock,
    or 10 minutes behind or 15 minutes ahead of it
    When a query runs
    Then exactly two signed attempts are made, and the error names the key's four settings, or says to check the
    engine's clock first when the Date shows it is off (decided from the clocks, whatever the answer's body says)
    """
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    headers = (
        {} if date_offset is None else {"Date": email.utils.format_datetime(now + timedelta(seconds=date_offset), usegmt=True)}
    )
    requests_mock.post(AUDIT_URL, status_code=401, headers=headers, json={"error": "timestamp refused"})
    with freeze_time(now), pytest.raises(lp.AuthenticationError) as raised:
        make_client(api_key_params()).query_audit(lp.AuditQuery(first=10, offset=0))
    assert message in str(raised.value)
    clock_first = date_offset is not None and abs(date_offset) > lp.CLOCK_SKEW_HINT_SECONDS
    assert ("check the engine's clock" in str(raised.value) and "first" in str(raised.value)) == clock_first
    assert len(audit_calls(requests_mock)) == 2
    assert not any(secret in str(raised.value) for secret in API_KEY_SECRETS)


BOTH = {**API_KEY, "credentials": {"identifier": "client-id-1", "password": SECRET}}


@pytest.mark.parametrize(
    ("params", "named"),
    [
        (
            BOTH,
            '"App key", "Secret", "Access token", "Access token secret") and client credentials ("Client ID", "Client secret")',
        ),
        ({**BOTH, "credentials": {"identifier": "", "password": SECRET}}, 'client credentials ("Client secret")'),
        ({**API_KEY, "api_key_credentials": {"identifier": "k", "password": ""}}, '"Secret" is empty: an API key is four values'),
        ({**API_KEY, "api_key_credentials": None}, '"App key" is empty'),
        ({**API_KEY, "access_token_credentials": {"identifier": " ", "password": "x"}}, '"Access token" is empty'),
        ({**API_KEY, "access_token_credentials": {"identifier": "t"}}, '"Access token secret" is empty'),
        ({"access_token_credentials": {"identifier": "t", "password": "s"}}, '"App key" is empty'),
        ({"credentials": None}, 'No credentials: fill in either an API key ("App key", "Secret", "Access token"'),
        ({"credentials": {"identifier": "", "password": ""}}, '"Client ID", "Client secret")'),
    ],
)
def test_settings_refuse_both_ways_in_or_part_of_one(params: dict[str, Any], named: str) -> None:
    """
    Given both an API key and client credentials, part of an API key, or no credentials at all
    When the settings are read
    Then a SettingError names the settings involved and what to do, and never a secret value
    """
    merged = {**base_params(credentials={"identifier": "", "password": ""}), **params}
    with pytest.raises(lp.SettingError) as raised:
        lp.Settings.from_params(merged)
    assert named in str(raised.value)
    assert SECRET not in str(raised.value)
    assert not any(secret in str(raised.value) for secret in API_KEY_SECRETS)


@pytest.mark.parametrize(
    "fields",
    [
        {"auth_method": lp.AUTH_API_KEY},
        {"auth_method": lp.AUTH_API_KEY, "api_key": lp.ApiKey("k", "s", "t", "ts"), "client_id": "id", "client_secret": "x"},
        {"auth_method": lp.AUTH_CLIENT_CREDENTIALS, "client_id": "id"},
        {
            "auth_method": lp.AUTH_CLIENT_CREDENTIALS,
            "client_id": "id",
            "client_secret": "x",
            "api_key": lp.ApiKey("k", "s", "t", "ts"),
        },
    ],
)
def test_settings_built_by_hand_must_say_one_way_in(fields: dict[str, Any]) -> None:
    """
    Given Settings built in code whose auth_method does not match the credentials they hold
    When they are made
    Then they are refused at once, before any request could go out with the wrong way in
    """
    with pytest.raises(ValueError, match="Settings: "):
        lp.Settings(account_id=ACCOUNT, **fields)


def test_api_key_settings_keep_the_values_out_of_their_repr() -> None:
    """
    Given settings read from an API key (values with spaces around them, as pasted)
    When they are read and shown
    Then the method is the API key, the values are trimmed, and none of them is in the settings' repr
    """
    pasted = {name: {half: f" {value} " for half, value in halves.items()} for name, halves in API_KEY.items()}
    settings = lp.Settings.from_params(base_params(credentials=None, **pasted))
    assert settings.api_key == lp.ApiKey(*API_KEY_SECRETS)
    assert (settings.client_id, settings.client_secret) == ("", "")
    assert not any(secret in repr(settings) for secret in API_KEY_SECRETS)


@pytest.mark.parametrize("sentinel", ["", "va.sentinel.liveperson.net"])
def test_test_module_with_an_api_key_skips_sentinel_and_says_so(
    platform: Platform, api: AuditBackend, requests_mock: Any, sentinel: str
) -> None:
    """
    Given an instance set up with an API key, the Sentinel setting empty or set
    When test-module runs
    Then it answers ok after the audit host's lookup and one signed audit query, never asks for Sentinel, and the log
    names the method and says the Sentinel lookup is skipped and its setting ignored
    """
    knows_schema(platform)  # learned by an earlier run: this test is about what follows
    platform.command, platform.params = "test-module", api_key_params(auth_server_url=sentinel)
    lp.main()
    assert platform.results == ["ok"]
    assert [r.url for r in requests_mock.request_history] == [DOMAIN_URL, AUDIT_URL]
    assert signed_by_the_key(requests_mock.request_history[-1])
    note = next(line for line in platform.logs if line.startswith("Authentication (API key, OAuth 1.0)"))
    assert "Sentinel is not used, so its lookup is skipped" in note and '"Authorization server (Sentinel) host"' in note


def test_test_module_names_the_api_key_when_it_is_refused(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given an API key the Audit Trail refuses (401 to both signed attempts), its answers dated by a clock 10 minutes on
    When test-module runs
    Then the failing stage is the API key's authentication, and it says to check the engine's clock
    """
    later = email.utils.format_datetime(datetime.now(UTC) + timedelta(minutes=10), usegmt=True)
    requests_mock.post(AUDIT_URL, status_code=401, headers={"Date": later})
    platform.command, platform.params = "test-module", api_key_params()
    lp.main()
    assert platform.results[-1].startswith("Authentication (API key, OAuth 1.0) failed: LivePerson refused the API key's")
    assert "check the engine's clock" in platform.results[-1]


def test_main_error_never_shows_the_api_key(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given an Audit Trail refusal whose text echoes all four values of the API key
    When main reports it
    Then none of them is in the error entry or the log
    """
    echo = " ".join(API_KEY_SECRETS)
    requests_mock.post(AUDIT_URL, status_code=400, json={"errors": [{"message": f"cannot read {echo}"}]})
    platform.command, platform.params = "liveperson-get-events", api_key_params()
    with pytest.raises(SystemExit):
        lp.main()
    contents = platform.results[-1]["Contents"]
    assert "cannot read" in contents
    assert not any(secret in contents or any(secret in line for line in platform.logs) for secret in API_KEY_SECRETS)


def test_a_changed_client_secret_is_seen_at_once(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given a run that cached a token made with the client secret, and the secret then changed (to a wrong one)
    When the next run queries the Audit Trail
    Then it does not use the cached token: it asks Sentinel with the new secret, whose refusal is the run's error;
    the cache's scope holds a keyed hash of the secret, never the secret
    """
    knows_schema(platform)  # learned by an earlier run: this test is about what follows
    requests_mock.post(TOKEN_URL, [{"json": {"access_token": "made-with-the-right-secret"}}, {"status_code": 401}])
    make_client().query_audit(lp.AuditQuery(first=10, offset=0))
    scope = platform.context["access_token"]["scope"]
    assert SECRET not in json.dumps(platform.context)
    assert lp.hashlib.sha256(SECRET.encode()).hexdigest()[:32] not in scope
    wrong = base_params(credentials={"identifier": "client-id-1", "password": "a-wrong-secret"})
    with pytest.raises(lp.AuthenticationError, match='"Client ID" and "Client secret"'):
        make_client(wrong).query_audit(lp.AuditQuery(first=10, offset=0))
    tokens_asked = [r.text for r in requests_mock.request_history if r.url == TOKEN_URL]
    assert len(tokens_asked) == 2 and "client_secret=a-wrong-secret" in tokens_asked[1]
    assert len(audit_calls(requests_mock)) == 1  # the cached token was not tried with the changed secret


# ---------------------------------------------------------------- domain resolver


def test_domain_hosts_are_cached_for_hours_per_service(platform: Platform, requests_mock: Any) -> None:
    """
    Given the Domain API names the audit host and the Sentinel host
    When runs ask for each host: the first, one 3 hours later, one 5 hours later
    Then the Domain API is asked for each service in the first run and after the cache time only; a host is
    reported as possibly stale only when an earlier run cached it
    """
    requests_mock.get(DOMAIN_URL, json=load("domain.json"))
    requests_mock.get(SENTINEL_DOMAIN_URL, json=load("domain_sentinel.json"))
    audit, sentinel = ("va.ac.liveperson.net", "va.sentinel.liveperson.net")
    with freeze_time(NOW) as frozen:
        first_run = make_client().resolver
        assert (first_run.audit_host(), first_run.host("sentinel")) == ((audit, False), (sentinel, False))
        assert (first_run.audit_host(), first_run.host("sentinel")) == ((audit, False), (sentinel, False))
        frozen.tick(timedelta(hours=3))
        later_run = make_client().resolver
        assert (later_run.audit_host(), later_run.host("sentinel")) == ((audit, True), (sentinel, True))
        frozen.tick(timedelta(hours=2))
        last_run = make_client().resolver
        assert (last_run.audit_host(), last_run.host("sentinel")) == ((audit, False), (sentinel, False))
    assert [r.url for r in requests_mock.request_history] == [DOMAIN_URL, SENTINEL_DOMAIN_URL] * 2
    assert set(platform.context) == {"audit_host", "sentinel_host"}


@pytest.mark.parametrize(("status", "message"), [(400, "rejected the account ID"), (401, "does not know account")])
def test_domain_errors_name_the_account_setting(platform: Platform, requests_mock: Any, status: int, message: str) -> None:
    """
    Given the Domain API answers 400 or 401
    When the host is resolved
    Then the error says so and names "Account ID"
    """
    requests_mock.get(DOMAIN_URL, status_code=status)
    with pytest.raises(lp.SettingError, match=message) as raised:
        make_client().resolver.refresh()
    assert '"Account ID"' in str(raised.value)


def test_domain_answer_without_host_is_an_error(platform: Platform, requests_mock: Any) -> None:
    """
    Given the Domain API answers 200 without a usable baseURI
    When the host is resolved
    Then a format error is raised instead of calling a made-up host
    """
    requests_mock.get(DOMAIN_URL, json={"baseURI": "not a host/path"})
    with pytest.raises(lp.ResponseFormatError):
        make_client().resolver.refresh()


# ---------------------------------------------------------------- client faults


def test_401_renews_the_token_once(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given the audit API refuses the cached token once
    When a query runs
    Then a new token is fetched and the query repeated once with it
    """
    requests_mock.post(TOKEN_URL, [{"json": {"access_token": "old"}}, {"json": {"access_token": "new"}}])
    api.records = [record("2026-11-23 10:00:00")]
    knows_schema(platform)
    answers = [{"status_code": 401}, {"json": api}]
    requests_mock.post(AUDIT_URL, answers)
    records = make_client().query_audit(lp.AuditQuery(first=10, offset=0))
    assert len(records) == 1
    audit_calls = [r for r in requests_mock.request_history if r.url == AUDIT_URL]
    assert [r.headers["Authorization"] for r in audit_calls] == ["Bearer old", "Bearer new"]


def test_401_twice_is_an_authentication_error(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given the audit API refuses every token
    When a query runs
    Then the token is renewed once only and the error says the key is refused
    """
    requests_mock.post(AUDIT_URL, status_code=401)
    with pytest.raises(lp.AuthenticationError, match="refused the access token"):
        make_client().query_audit(lp.AuditQuery(first=10, offset=0))
    assert sum(r.url == TOKEN_URL for r in requests_mock.request_history) == 2


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        ({"status_code": 403}, lp.AccessDeniedError, "does not document which API permission"),
        ({"status_code": 451}, lp.AccessDeniedError, "blocked"),
        ({"status_code": 400, "json": {"errors": [{"message": "bad argument"}]}}, lp.SchemaError, "smallest query.*bad argument"),
        ({"status_code": 200, "text": "<html>oops"}, lp.ResponseFormatError, "not JSON"),
        ({"status_code": 200, "json": {"errors": [{"message": "boom"}]}}, lp.SchemaError, "smallest query.*GraphQL errors: boom"),
        ({"status_code": 200, "json": {}}, lp.ResponseFormatError, "without data.auditData"),
        ({"status_code": 200, "json": {"data": None}}, lp.ResponseFormatError, "without data.auditData"),
        ({"status_code": 200, "json": {"data": {"auditData": "x"}}}, lp.ResponseFormatError, "without data.auditData"),
    ],
)
def test_bad_audit_answers_are_errors_never_empty(
    platform: Platform, api: AuditBackend, requests_mock: Any, answer: dict, error: type, message: str
) -> None:
    """
    Given the audit API answers a refusal, a GraphQL error, a non-JSON body or a body without data.auditData
    When a query runs (written with a schema an earlier run learned)
    Then a specific error explains it (a query refused whatever its form: even the smallest one, with the answer for a
    person to read), and it is never read as "no events"
    """
    knows_schema(platform)
    requests_mock.post(AUDIT_URL, **answer)
    with pytest.raises(error, match=message):
        make_client().query_audit(lp.AuditQuery(first=10, offset=0))


def test_5xx_is_retried_with_the_advised_pauses(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given the audit API fails with 500, 502 and 503 before answering
    When a query runs
    Then it pauses 5, 10 and 15 seconds and returns the answer
    """
    api.records = [record("2026-11-23 10:00:00")]
    requests_mock.post(AUDIT_URL, [{"status_code": 500}, {"status_code": 502}, {"status_code": 503}, {"json": api}])
    client = make_client()
    assert len(client.query_audit(lp.AuditQuery(first=10, offset=0))) == 1
    assert client._clock.pauses == [5, 10, 15]  # type: ignore[attr-defined]


def test_5xx_four_times_gives_up_for_this_run(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given the audit API keeps failing with 503
    When a query runs
    Then after three retries it raises a transient error that says the next run resumes
    """
    requests_mock.post(AUDIT_URL, status_code=503)
    with pytest.raises(lp.TransientError, match="next run resumes"):
        make_client().query_audit(lp.AuditQuery(first=10, offset=0))
    assert sum(r.url == AUDIT_URL for r in requests_mock.request_history) == 4


def test_429_honours_retry_after(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given the audit API rate-limits twice, once with Retry-After: 7
    When a query runs
    Then it waits at least a second, and 7 s where told, and succeeds
    """
    requests_mock.post(AUDIT_URL, [{"status_code": 429}, {"status_code": 429, "headers": {"Retry-After": "7"}}, {"json": api}])
    client = make_client()
    client.query_audit(lp.AuditQuery(first=10, offset=0))
    assert client._clock.pauses == [1, 7]  # type: ignore[attr-defined]


def test_retries_stop_at_the_time_budget(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given a run with a 20 s time budget and an API that keeps rate-limiting
    When a query runs
    Then it stops before the budget is exceeded
    """
    requests_mock.post(AUDIT_URL, status_code=429)
    client = make_client(budget=20)
    with pytest.raises(lp.TransientError, match="time budget"):
        client.query_audit(lp.AuditQuery(first=10, offset=0))
    assert sum(client._clock.pauses) <= 20  # type: ignore[attr-defined]


def test_stale_host_is_resolved_again_on_connection_failure(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given a cached audit host that no longer answers, and the Domain API now naming another host
    When a query runs
    Then the host is resolved again at once and the query goes to the new host
    """
    platform.context = {
        "audit_host": {"scope": f"https://api.liveperson.net|{ACCOUNT}", "value": "old.ac.example", "expires_at": 9e12}
    }
    requests_mock.post(
        f"https://old.ac.example/api/account/{ACCOUNT}/configuration/metadata/audit", exc=requests.exceptions.ConnectionError
    )
    api.records = [record("2026-11-23 10:00:00")]
    assert len(make_client().query_audit(lp.AuditQuery(first=10, offset=0))) == 1
    assert platform.context["audit_host"]["value"] == "va.ac.liveperson.net"


def test_404_from_cached_host_resolves_again(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given the cached audit host answers 404
    When a query runs
    Then the host is resolved again once and the query repeated
    """
    platform.context = {
        "audit_host": {"scope": f"https://api.liveperson.net|{ACCOUNT}", "value": "va.ac.liveperson.net", "expires_at": 9e12}
    }
    requests_mock.post(AUDIT_URL, [{"status_code": 404}, {"json": api}])
    make_client().query_audit(lp.AuditQuery(first=10, offset=0))
    assert sum(r.url == DOMAIN_URL for r in requests_mock.request_history) == 1


def test_a_missing_action_type_is_learned_once_and_names_the_rules_that_cannot_fire(
    platform: Platform, api: AuditBackend
) -> None:
    """
    Given an Audit Trail whose records have no actionType field (graphql-core refuses a query that selects it)
    When two runs query it
    Then the first learns it by asking (twice, before it is taken for absent) and says once which rules cannot fire;
    its pages and the next run's one query ask without actionType
    """
    api.typing = {"action_type": False}
    api.records = [record("2026-11-23 10:00:00")]
    make_client().query_audit(lp.AuditQuery(first=10, offset=0))
    asked_for_it = [query for query in api.queries if "actionType" in query]
    assert asked_for_it == ["{auditData(first: 1) {changeDate actionType}}"] * 2
    learned = [line for line in platform.logs if line.startswith("The Audit Trail's schema")]
    assert len(learned) == 1 and "actionType absent" in learned[0]
    assert all(f'"{rule}"' in learned[0] for rule in lp.ACTION_TYPE_RULES)
    before = len(api.queries)
    assert len(make_client().query_audit(lp.AuditQuery(first=10, offset=0))) == 1
    assert len(api.queries) == before + 1 and "actionType" not in api.queries[-1]


# ---------------------------------------------------------------- cursor


def entry_at(moment: datetime, fp: int) -> lp.Entry:
    """An entry with a chosen fingerprint (a real one is the hash of the record's JSON)."""
    return lp.Entry(moment, fp, lp.event_line({"changeDate": str(moment)}, moment), moment.replace(microsecond=0))


def entry(when: str, fp: int) -> lp.Entry:
    return entry_at(datetime.fromisoformat(when).replace(tzinfo=UTC), fp)


def second(when: str, *fps: int) -> lp.Second:
    start = datetime.fromisoformat(when).replace(tzinfo=UTC)
    return lp.Second(start, [entry_at(start, fp) for fp in fps])


def consume(cursor: lp.Cursor, *seconds: lp.Second) -> lp.Cursor:
    cursor.consume(list(seconds))
    return cursor


def test_fingerprint_is_of_the_record_as_sent() -> None:
    """
    Given a record, an identical copy, and a copy that differs in one value, read in one page
    When their entries are made
    Then identical records share the fingerprint, a changed value changes it, and it is the record's JSON hashed
    """
    import hashlib  # noqa: PLC0415

    base = load("audit_page.json")["data"]["auditData"][0]
    same, copy, changed = lp.make_entries([base, dict(base), {**base, "newValue": "other"}])
    assert same.fp == copy.fp != changed.fp
    assert same.fp == int.from_bytes(hashlib.blake2b(json.dumps(base).encode(), digest_size=8).digest(), "big")


def test_second_keys_tell_identical_records_apart_whatever_their_order() -> None:
    """
    Given a second with three identical records and one other, read in two different orders
    When its set keys are made
    Then the keys are four different values, and the same set in both orders
    """
    one = second("2026-11-23 10:00:00", 7, 7, 9, 7)
    two = second("2026-11-23 10:00:00", 9, 7, 7, 7)
    assert len(set(one.keys())) == 4
    assert sorted(one.keys()) == sorted(two.keys())


def test_cursor_consumes_whole_seconds_and_derives_its_position() -> None:
    """
    Given a new cursor at 2026-11-23 03:00 UTC (a US/Eastern fromDate would miss it: it starts a day early)
    When it consumes three seconds on 11-23 at 02:00, 03:00 and 06:00 UTC
    Then it keeps hour digests from the base day, the last second, and a position that depends on the fromDate zone
    """
    cursor = lp.Cursor.start(datetime(2026, 11, 23, 3, tzinfo=UTC))
    assert cursor.base == "2026-11-22"
    consume(cursor, second("2026-11-23 02:00:00", 1, 2), second("2026-11-23 03:00:00", 4), second("2026-11-23 06:00:00", 8))
    assert cursor.last == "2026-11-23T06:00:00Z"
    assert cursor.hours == {26: [2, 3], 27: [1, 4], 30: [1, 8]}
    assert cursor.position("UTC") == 4
    assert cursor.position("US/Eastern") == 4  # 11-22 starts at 05:00 UTC there: all of these are after it
    consume(cursor, second("2026-11-24 04:30:00", 16))
    assert cursor.base == "2026-11-23"  # rebased: one previous day is kept
    assert cursor.hours == {2: [2, 3], 3: [1, 4], 6: [1, 8], 28: [1, 16]}
    assert cursor.position("UTC") == 5
    assert cursor.position("US/Eastern") == 2  # 11-23 starts at 05:00 UTC (EST): the 02:00 and 03:00 records are before
    assert cursor.positions() == [("UTC", 5), ("US/Eastern", 2)]
    with pytest.raises(ValueError, match="is not after"):
        consume(cursor, second("2026-11-24 04:30:00", 32))


def test_cursor_json_roundtrip_and_size() -> None:
    """
    Given a cursor that consumed records in every hour of two days
    When it is saved and read back
    Then it is equal, and its JSON stays under 4 KB
    """
    cursor = lp.Cursor.start(datetime(2026, 11, 22, 6, tzinfo=UTC))
    for index in range(48 * 30):
        moment = datetime(2026, 11, 22, 6, tzinfo=UTC) + timedelta(seconds=index * 120)
        consume(cursor, lp.Second(moment, [entry_at(moment, 2**63 + index), entry_at(moment, 2**64 - 1 - index)]))
    saved = json.loads(json.dumps(cursor.to_json()))
    assert lp.Cursor.from_json(saved).to_json() == cursor.to_json()
    assert len(saved["hours"]) == 48 - 6 + 6 or len(saved["hours"]) <= 48
    assert len(json.dumps(saved)) <= 4096


@pytest.mark.parametrize(
    "state",
    [
        {"version": 99},
        {"version": 2, "since": "x", "base": "2026-11-23"},
        {"version": 2, "since": "2026-11-23T00:00:00Z", "base": "not a day"},
        {"version": 2, "since": "2026-11-23T00:00:00Z", "base": "2026-11-23", "zone": "Mars"},
        {"version": 2, "since": "2026-11-23T00:00:00Z", "base": "2026-11-23", "sketches": {"2026-11-23": "!!"}},
        {"version": 2, "since": "2026-11-23T00:00:00Z", "base": "2026-11-23", "hours": [[1, 2]]},
        {"version": 1, "since": "2026-11-23T00:00:00Z", "day": "2026-11-23", "offset": 0},  # never released
    ],
)
def test_unreadable_last_run_is_an_error_that_says_how_to_recover(state: dict) -> None:
    """
    Given a saved last run that is damaged or of another version
    When it is read
    Then a StateError tells the user to reset the last run
    """
    with pytest.raises(lp.StateError, match="Reset the last run"):
        lp.Cursor.from_json(state)


def test_unaccounted_finds_new_records_by_count_and_hash() -> None:
    """
    Given two consumed records (fingerprints 5 and 7: count 2, hash 12)
    When the same second or hour is read again as it was, grown at the end, grown in the middle, grown by two
    anywhere, or changed
    Then the new records are found exactly, and a change that cannot be told apart gives None
    """
    same = [entry("2026-11-23 10:00:00", 5), entry("2026-11-23 10:00:00", 7)]
    assert lp.unaccounted(same, 2, 12) == []
    grown = [*same, entry("2026-11-23 10:00:00", 9)]
    assert lp.unaccounted(grown, 2, 12) == [grown[2]]
    middle = [same[0], entry("2026-11-23 10:00:00", 9), same[1]]
    assert lp.unaccounted(middle, 2, 12) == [middle[1]]
    two = [entry("2026-11-23 10:00:00", 100), same[0], entry("2026-11-23 10:00:00", 200), same[1]]
    assert lp.unaccounted(two, 2, 12) == [two[0], two[2]]
    changed = [entry("2026-11-23 10:00:00", 5), entry("2026-11-23 10:00:00", 8)]
    assert lp.unaccounted(changed, 2, 12) is None
    assert lp.unaccounted([], 0, 0) == []


@pytest.mark.parametrize("seed", range(20))
def test_key_sketch_names_a_small_difference_exactly(seed: int) -> None:
    """
    Given two sets of 64-bit keys sharing hundreds of keys and differing by up to 8 on each side
    When the sketch of one is subtracted from the other's and peeled
    Then the keys only in each set are named exactly; the sketch survives JSON text
    """
    rng = random.Random(seed)
    shared = [rng.getrandbits(64) for _ in range(500)]
    extra_a = [rng.getrandbits(64) for _ in range(rng.randint(0, 8))]
    extra_b = [rng.getrandbits(64) for _ in range(rng.randint(0, 3))]
    sketch_a, sketch_b = lp.KeySketch(), lp.KeySketch()
    sketch_a.add(shared + extra_a)
    sketch_b.add(shared + extra_b)
    sketch_a = lp.KeySketch.from_text(sketch_a.to_text())
    peeled = sketch_a.minus(sketch_b).peel()
    assert peeled is not None
    assert (sorted(peeled[0]), sorted(peeled[1])) == (sorted(extra_a), sorted(extra_b))


# A sketch of keys 1, 2**63, 0xDEADBEEFCAFEF00D and 2**64 - 1 (and 12345 added, then removed), as last runs saved it
# before the cells kept key and check in one value: the saved form must not change.
SAVED_SKETCH = (
    "AQAAAAAAAAAAAACAk/MAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACAAAADPD+yu++rd5hqAAAAAAAAAAAAAAAAAAAAQAAAP//////////2BgAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAACAk/MAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAEAAAABAAAAAAAAAFi/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQAAAA3w"
    "/srvvq3eORcBAAAA///////////YGAAAAAAAAAAAAAAAAAAAAgAAAAEAAAAAAACAy0wAAAAAAAAAAAAAAAAAAAEAAAAN8P7K776t"
    "3jkXAQAAAP//////////2BgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQAAAA3w/srvvq3eORcAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAABAAAA///////////YGAIAAAABAAAAAAAAgMtMAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
)


def test_key_sketch_saves_as_before() -> None:
    """
    Given a sketch saved by the previous version of the module
    When it is read, and the same keys are sketched now
    Then both give the saved text back, and peeling the saved one against an empty sketch names its keys
    """
    now = lp.KeySketch()
    now.add([1, 2**63, 0xDEADBEEFCAFEF00D, 2**64 - 1, 12345])
    now.add([12345], -1)
    assert now.to_text() == SAVED_SKETCH
    assert lp.KeySketch.from_text(SAVED_SKETCH).to_text() == SAVED_SKETCH
    peeled = lp.KeySketch.from_text(SAVED_SKETCH).minus(lp.KeySketch()).peel()
    assert peeled is not None
    assert sorted(peeled[0]) == sorted([1, 2**63, 0xDEADBEEFCAFEF00D, 2**64 - 1]) and peeled[1] == []


def test_key_sketch_refuses_to_guess_a_large_difference() -> None:
    """
    Given two sets that differ by 200 keys
    When the difference is peeled
    Then it says it cannot (None), so the caller falls back to hour digests
    """
    rng = random.Random(5)
    sketch = lp.KeySketch()
    sketch.add(rng.getrandbits(64) for _ in range(200))
    assert sketch.minus(lp.KeySketch()).peel() is None


def test_page_size_learner_judges_short_pages() -> None:
    """
    Given a learner that has seen a full page of 100 records
    When pages of 0, 40, 100 and 150 records come back for 200 asked
    Then an empty page or one shorter than proven ends the result, a longer one needs a probe, and a cap is kept
    """
    cache = lp.ContextCache()
    learner = lp.PageSizeLearner(cache, "acct")
    assert learner.is_end(100, 100) is False
    assert (learner.is_end(0, 200), learner.is_end(40, 200), learner.is_end(150, 200)) == (True, True, None)
    learner.learn_cap(150, "capped")
    again = lp.PageSizeLearner(cache, "acct")
    assert (again.cap, again.ask(500), again.ask(100)) == (150, 150, 100)
    assert again.is_end(149, 150) is True
    assert lp.smaller_page_sizes(500) == [250, 125, 62, 31, 15, 10]


# ---------------------------------------------------------------- fetch-events


@freeze_time(NOW)
def test_fetch_sends_then_saves_and_skips_older_than_first_fetch(platform: Platform, api: AuditBackend) -> None:
    """
    Given records before and after the first fetch time
    When fetch-events runs
    Then only the later ones are sent, with _time in UTC, and the last run is saved
    """
    api.records = [record("2026-11-18 23:59:59"), record("2026-11-19 00:00:00"), record("2026-11-20 08:30:00", name="Eve")]
    platform.params = base_params(first_fetch="2026-11-19T00:00:00Z")
    assert run_fetch(platform, first_fetch="2026-11-19T00:00:00Z") == 2
    assert [e["_time"] for e in platform.events] == ["2026-11-19T00:00:00Z", "2026-11-20T08:30:00Z"]
    assert (platform.last_run["last"], platform.last_run["base"]) == ("2026-11-20T08:30:00Z", "2026-11-19")
    assert platform.health[-1] == {"eventsPulled": 2}
    assert 'fromDate: "2026-11-18"' in page_queries(api)[0]  # a day early: a US/Eastern fromDate would start at 05:00 UTC


@freeze_time(NOW)
def test_failed_send_keeps_the_last_run(platform: Platform, api: AuditBackend) -> None:
    """
    Given XSIAM refuses the send
    When fetch-events runs, and runs again once XSIAM accepts
    Then the first run saves only where collection starts (nothing consumed) and raises, and the second sends the
    same events once
    """
    api.records = [record("2026-11-20 08:30:00"), record("2026-11-20 08:30:01")]
    platform.refuse_sends = 1
    with pytest.raises(lp.DemistoException):
        run_fetch(platform)
    assert (platform.last_run["last"], platform.last_run["hours"], platform.last_run["sketches"]) == (None, [], {})
    assert platform.health[-1] == {"eventsPulled": 0}
    run_fetch(platform)
    assert len(platform.events) == 2


def large_records(count: int) -> list[dict[str, Any]]:
    """`count` records of 30 KB, one a second: about 29 fill one send."""
    return [
        record(f"2026-11-20 08:{index // 60:02d}:{index % 60:02d}", name=f"r{index}", new="x" * 30_000) for index in range(count)
    ]


@freeze_time(NOW)
def test_a_batch_uploads_while_the_next_is_read_and_is_saved_once_accepted(
    platform: Platform, api: AuditBackend, monkeypatch: pytest.MonkeyPatch, requests_mock: Any
) -> None:
    """
    Given 70 records of 30 KB (three sends' worth), and a platform whose first upload lasts until more pages are read
    When fetch-events runs with pages of 10
    Then the first batch uploads while the next pages are read, on another thread, after the platform library was
    told that threads call it; each batch is accepted before the next goes out, the cursor after a batch is saved
    only once the batch was accepted, and every record is delivered once
    """
    api.records = large_records(70)
    timeline: list[tuple[str, int]] = []
    page_read = threading.Event()

    def audit(request: Any, context: Any) -> dict[str, Any]:
        answer = api(request, context)
        page_read.set()
        return answer

    requests_mock.post(AUDIT_URL, json=audit)
    save = demisto.setLastRun
    monkeypatch.setattr(demisto, "setLastRun", lambda value: (timeline.append(("saved", len(api.queries))), save(value)))
    monkeypatch.setattr(lp, "support_multithreading", lambda: timeline.append(("threads", len(api.queries))))
    accept = lp.send_events_to_xsiam

    def upload(events: list[str], *args: Any, **kwargs: Any) -> None:
        assert threading.current_thread() is not threading.main_thread()
        timeline.append(("sent", len(api.queries)))
        if len([kind for kind, _ in timeline if kind == "sent"]) == 1:
            page_read.clear()
            assert page_read.wait(timeout=30)  # the reading goes on while this batch is in flight
        timeline.append(("accepted", len(api.queries)))
        accept(events, *args, **kwargs)

    monkeypatch.setattr(lp, "send_events_to_xsiam", upload)
    assert run_fetch(platform, page_size="10") == 70
    kinds = [kind for kind, _ in timeline]
    assert kinds == ["saved", "threads"] + ["sent", "accepted", "saved"] * 3  # the first run's start, then one at a time
    assert timeline[4][1] > timeline[3][1]  # pages were read between the first batch's send and its acceptance
    assert [event["objectName"] for event in platform.events] == [f"r{index}" for index in range(70)]
    assert platform.last_run["last"] == "2026-11-20T08:01:09Z"


@freeze_time(NOW)
def test_a_batch_in_flight_when_reading_fails_is_saved_once_accepted(
    platform: Platform, api: AuditBackend, monkeypatch: pytest.MonkeyPatch, requests_mock: Any
) -> None:
    """
    Given 70 records of 30 KB, and an Audit Trail that fails once the first batch is in flight
    When fetch-events runs with pages of 10, and again once the Audit Trail answers
    Then the first run raises the Audit Trail's error only after the batch in flight and the records read before
    the failure were accepted and their cursor saved, and the second run delivers the rest: nothing lost, nothing twice
    """
    api.records = large_records(70)
    sends: list[int] = []

    def failing_after_first_send(request: Any, context: Any) -> dict[str, Any]:
        if sends:
            context.status_code = 503
            return {"error": "unavailable"}
        return api(request, context)

    accept = lp.send_events_to_xsiam

    def send(events: list[str], *args: Any, **kwargs: Any) -> Any:
        sends.append(len(events))
        return accept(events, *args, **kwargs)

    requests_mock.post(AUDIT_URL, json=failing_after_first_send)
    monkeypatch.setattr(lp, "send_events_to_xsiam", send)
    with pytest.raises(lp.TransientError):
        run_fetch(platform, page_size="10")
    assert len(sends) == 2  # the batch in flight, then the records read before the failure, flushed
    assert len(platform.events) == sum(sends)
    assert platform.last_run["last"] == platform.events[-1]["_time"]
    assert platform.health[-1] == {"eventsPulled": sum(sends)}
    requests_mock.post(AUDIT_URL, json=api)
    run_fetch(platform, page_size="10")
    assert [event["objectName"] for event in platform.events] == [f"r{index}" for index in range(70)]


@freeze_time(NOW)
def test_an_upload_that_fails_while_the_reading_fails_too_shows_both_causes(
    platform: Platform, api: AuditBackend, monkeypatch: pytest.MonkeyPatch, requests_mock: Any
) -> None:
    """
    Given 70 records of 30 KB, a platform that refuses the first batch, and an Audit Trail that fails for good once
    that batch is in flight
    When fetch-events runs
    Then its error names both causes, the refused upload and the failed reading, and the last run stays where
    collection starts
    """
    api.records = large_records(70)
    in_flight = threading.Event()

    def failing_once_sent(request: Any, context: Any) -> dict[str, Any]:
        if in_flight.is_set():
            context.status_code = 503
            return {"error": "unavailable"}
        return api(request, context)

    def refuse(events: list[str], *args: Any, **kwargs: Any) -> Any:
        in_flight.set()
        raise lp.DemistoException("XSIAM refused the batch")

    requests_mock.post(AUDIT_URL, json=failing_once_sent)
    monkeypatch.setattr(lp, "send_events_to_xsiam", refuse)
    with pytest.raises(lp.LivePersonError, match="2 reasons") as error:
        run_fetch(platform, page_size="10")
    assert "XSIAM refused the batch" in str(error.value)
    assert "503" in str(error.value)
    assert platform.last_run["last"] is None


@freeze_time(NOW)
def test_steady_state_run_makes_no_domain_or_token_call(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given a first run that resolved the host and got a token
    When a second run finds nothing new
    Then it makes one audit call and no domain or token call, and sends nothing
    """
    api.records = [record("2026-11-20 08:30:00"), record("2026-11-20 08:30:01"), record("2026-11-20 08:30:02")]
    run_fetch(platform)
    before = len(requests_mock.request_history)
    sent_before = len(platform.sent)
    run_fetch(platform)
    later = [r.url for r in requests_mock.request_history[before:]]
    assert later == [AUDIT_URL]
    assert len(platform.sent) == sent_before


def test_the_first_run_fixes_where_collection_starts(platform: Platform, api: AuditBackend) -> None:
    """
    Given a new instance (first fetch 1 minute ago, settle delay 120 s) on an account with nothing to collect yet
    When the first run finds nothing, a change is made 30 s later, and the next run comes 5 minutes later
    Then the first run saved where collection starts, so the change is delivered rather than taken for one older
    than a start computed anew by the later run
    """
    with freeze_time("2026-11-24T12:00:00Z") as frozen:
        assert run_fetch(platform, first_fetch="1 minute") == 0
        assert platform.last_run["since"] == "2026-11-24T11:59:00Z"
        assert platform.last_run["last"] is None
        api.records = [record("2026-11-24 12:00:30", name="first change")]
        frozen.tick(timedelta(minutes=5))
        assert run_fetch(platform, first_fetch="1 minute") == 1
    assert [event["objectName"] for event in platform.events] == ["first change"]


@freeze_time(NOW)
@pytest.mark.parametrize("refused", [2, 3])
def test_a_second_larger_than_one_send_goes_in_parts_and_is_resent_whole(
    platform: Platform, api: AuditBackend, monkeypatch: pytest.MonkeyPatch, refused: int
) -> None:
    """
    Given 10 records, then 40 records of 30 KB in one second (more than one send holds), then 5 more records
    When fetch-events runs and XSIAM refuses its 2nd (or 3rd) send, then runs again
    Then every send fits one platform chunk, the records before the large second go first with their own cursor, the
    large second goes in parts that are resent whole when a later part fails, and nothing is lost
    """
    api.records = [record(f"2026-11-20 08:00:{second:02d}", name=f"before{second}") for second in range(10)]
    api.records += [record("2026-11-20 08:30:00", name=f"big{index}", new="x" * 30_000) for index in range(40)]
    api.records += [record(f"2026-11-20 09:00:{second:02d}", name=f"after{second}") for second in range(5)]
    sends = {"count": 0}
    accept = lp.send_events_to_xsiam

    def refusing(events: list[str], *args: Any, **kwargs: Any) -> Any:
        sends["count"] += 1
        assert sum(map(sys.getsizeof, events)) < 2**20  # one platform chunk
        if sends["count"] == refused:
            raise lp.DemistoException("XSIAM refused the batch")
        return accept(events, *args, **kwargs)

    monkeypatch.setattr(lp, "send_events_to_xsiam", refusing)
    with pytest.raises(lp.DemistoException):
        run_fetch(platform, page_size="100")
    assert [event["objectName"] for event in platform.sent[0]] == [f"before{second}" for second in range(10)]
    assert platform.last_run["last"] == "2026-11-20T08:00:09Z"  # the large second is not consumed until all of it is sent
    run_fetch(platform, page_size="100")
    names = Counter(event["objectName"] for event in platform.events)
    assert set(names) == {r["objectName"] for r in api.records}
    doubled = {name for name, count in names.items() if count > 1}
    assert (doubled == set()) if refused == 2 else (doubled and all(name.startswith("big") for name in doubled))


@freeze_time(NOW)
def test_backlog_larger_than_max_fetch_drains_over_runs(platform: Platform, api: AuditBackend) -> None:
    """
    Given 95 records over three days, including a burst of 30 identical-looking records in one second
    When fetch-events runs with max_fetch 20 and page size 10 until nothing is left
    Then every record is delivered exactly once, in order, each run's records in one send (they fit one chunk)
    """
    api.records = [
        record(f"2026-11-2{day} 0{hour}:00:{second:02d}", name=f"u{day}{hour}{second}")
        for day in (0, 1, 2)
        for hour in (1, 2)
        for second in range(0, 60, 6)
    ]
    api.records += [record("2026-11-21 23:59:59") for _ in range(30)]
    api.records += [record("2026-11-22 00:00:00", name="midnight")] * 5
    expected = api.ordered()
    sends_per_run = []
    for _ in range(10):
        sent_before = len(platform.sent)
        run_fetch(platform, max_fetch="20", page_size="10")
        sends_per_run.append(len(platform.sent) - sent_before)
    assert [e["changeDate"] for e in platform.events] == [r["changeDate"] for r in expected]
    assert [e["objectName"] for e in platform.events] == [r["objectName"] for r in expected]
    assert max(sends_per_run) == 1
    assert sends_per_run.count(1) >= 4  # 95 records, at most about 20 a run


def random_history(rng: random.Random, start: datetime, count: int) -> list[dict[str, Any]]:
    """Records in ascending time with bursts of identical-looking records and midnight crossings."""
    records, moment = [], start
    while len(records) < count:
        moment += timedelta(seconds=rng.choice([0, 0, 1, 2, 59, 3600, 7 * 3600]))
        burst = rng.choice([1, 1, 1, 2, 5, 25])
        twin = rng.random() < 0.5
        for index in range(burst):
            name = "same" if twin else f"obj{len(records)}-{index}"
            records.append(record(moment.strftime("%Y-%m-%d %H:%M:%S"), name=name))
    return records


@pytest.mark.slow  # longer than the quick loop allows
@pytest.mark.parametrize("seed", range(12))
def test_exactly_once_over_random_runs_pages_and_appends(platform: Platform, api: AuditBackend, seed: int) -> None:
    """
    Given a random history (bursts of identical records spanning pages, midnights) that grows between runs,
    also inside the last second already delivered
    When fetch-events runs many times with random page sizes and max_fetch
    Then the delivered records equal the history, in order: none lost, none twice
    """
    rng = random.Random(seed)
    history = random_history(rng, datetime(2026, 11, 19, 22, tzinfo=UTC), 400)
    api.records = history[:150]
    appended = 150
    for _ in range(60):
        run_fetch(platform, max_fetch=str(rng.randint(1, 60)), page_size=str(rng.randint(10, 40)))
        if appended < len(history):
            grow = rng.randint(0, 30)
            api.records += history[appended:][:grow]
            appended += grow
        if rng.random() < 0.3 and api.records:  # a same-second arrival after the last record was read
            api.records.append(dict(api.records[-1], objectName=f"late-twin-{len(api.records)}"))
    for _ in range(40):
        run_fetch(platform, max_fetch="50", page_size="25")
    assert [(e["changeDate"], e["objectName"]) for e in platform.events] == [
        (r["changeDate"], r["objectName"]) for r in api.ordered()
    ]


@freeze_time(NOW)
@pytest.mark.parametrize("seed", range(12))
def test_late_inserts_before_the_cursor_are_delivered_exactly_once(platform: Platform, api: AuditBackend, seed: int) -> None:
    """
    Given one or two records that appear late, with times before what was already consumed (past the settle delay)
    When fetch-events runs again
    Then the seam check notices, reconciling names them by the day's sketch, and every record is delivered once
    """
    rng = random.Random(seed)
    api.records = random_history(rng, datetime(2026, 11, 20, 1, tzinfo=UTC), 120)
    run_fetch(platform, max_fetch="1000", page_size="20")
    last = datetime.fromisoformat(platform.last_run["last"].replace("Z", "+00:00"))
    base = datetime.fromisoformat(platform.last_run["base"]).replace(tzinfo=UTC)
    for number in range(1 + seed % 2):
        late = base + (last - base) * rng.random()
        api.records.append(record(min(late, last).strftime("%Y-%m-%d %H:%M:%S"), name=f"late-insert-{number}"))
    run_fetch(platform, max_fetch="1000", page_size="20")
    delivered = sorted((e["changeDate"], e["objectName"]) for e in platform.events)
    assert delivered == sorted((r["changeDate"], r["objectName"]) for r in api.records)
    assert any("late record(s) named exactly" in line for line in platform.logs)


@freeze_time(NOW)
def test_many_late_records_in_one_hour_are_named_not_their_hour(platform: Platform, api: AuditBackend) -> None:
    """
    Given five records that appear late in one hour already delivered
    When fetch-events runs again
    Then exactly those five are delivered: no record of their hour is sent twice
    """
    api.records = [
        record(f"2026-11-20 0{hour}:{minute:02d}:00", name=f"h{hour}m{minute}")
        for hour in (1, 2, 3)
        for minute in range(0, 60, 10)
    ]
    run_fetch(platform, page_size="10")
    api.records += [record(f"2026-11-20 02:0{second}:30", name=f"late{second}") for second in range(5)]
    run_fetch(platform, page_size="10")
    names = [event["objectName"] for event in platform.events]
    assert sorted(names) == sorted(r["objectName"] for r in api.records)


@freeze_time(NOW)
def test_late_records_beyond_the_sketch_resend_only_their_hours(platform: Platform, api: AuditBackend) -> None:
    """
    Given 60 records that appear late in one hour of an already delivered day: more than the sketch can name
    When fetch-events runs again
    Then nothing is lost, and only that hour's records can be sent twice
    """
    api.records = [
        record(f"2026-11-20 {hour:02d}:{minute:02d}:00", name=f"h{hour}m{minute}") for hour in (1, 2, 3) for minute in range(60)
    ]
    run_fetch(platform, page_size="100")
    api.records += [record(f"2026-11-20 02:{minute:02d}:30", name=f"late{minute}") for minute in range(60)]
    run_fetch(platform, page_size="100")
    counts: dict[str, int] = {}
    for event in platform.events:
        counts[event["objectName"]] = counts.get(event["objectName"], 0) + 1
    assert set(counts) == {r["objectName"] for r in api.records}
    assert {name for name, count in counts.items() if count > 1} <= {f"h2m{minute}" for minute in range(60)}
    assert any("changed beyond naming" in line for line in platform.logs)


class Killed(BaseException):
    """The engine killed the run's process: nothing after it runs (a BaseException, so no handler takes it)."""


def budgeted_runs(requests_mock: Any, backend: "BusyDays", first_fetch: str) -> tuple[Callable[[float], None], FakeClock]:
    """fetch-events against `backend` (pages of 100), each run with its own time budget (the argument) on a fake
    clock, returned too; every answer takes 0.1 s of it."""
    serve(requests_mock, backend)
    settings = lp.Settings.from_params(base_params(first_fetch=first_fetch, page_size="100", max_fetch="50000"))
    clock = FakeClock()
    backend.on_call = lambda: clock.sleep(0.1)

    def run(budget: float) -> None:
        clock.now = 0.0
        lp.fetch_events_command(lp.AuditTrailClient(settings, clock=clock, sleep=clock.sleep, time_budget=budget), settings)

    return run, clock


def reconcile_with_kills(
    platform: Platform, backend: "BusyDays", clock: FakeClock, run: Callable[[], None], runs: int, kill_after: tuple[int, int]
) -> int:
    """Runs until the record named "late" is delivered and no reconcile goes on, at most `runs` times; every third run
    is killed after a random number of audit calls in `kill_after`, and every answer takes 0.1 s of the run's budget.
    Each last run must fit 4 KB. Returns how many runs ended with a reconcile still going on."""
    rng = random.Random(7)
    reconciling_runs = 0
    for number in range(runs):
        kill_at = backend.calls + rng.randint(*kill_after) if number % 3 == 1 else None

        def tick(kill_at: int | None = kill_at) -> None:
            clock.sleep(0.1)
            if kill_at is not None and backend.calls >= kill_at:
                raise Killed

        backend.on_call = tick
        with contextlib.suppress(Killed):
            run()
        assert len(json.dumps(platform.last_run)) <= 4096
        if "recount" in platform.last_run:
            reconciling_runs += 1
        elif Counter(event["objectName"] for event in platform.events)["late"]:
            break
    return reconciling_runs


@pytest.mark.slow  # longer than the quick loop allows
@freeze_time(NOW)
def test_a_reconcile_larger_than_a_run_goes_on_over_runs_and_survives_kills(platform: Platform, requests_mock: Any) -> None:
    """
    Given 205,000 records over the two days the cursor watches, an Audit Trail capped at 100 records a page, all of
    them delivered, and then one record that appears six hours before the cursor
    When fetch-events runs with a time budget that re-reads about 60,000 records a run, and some runs are killed at
    a random audit call
    Then the reconcile goes on from run to run (at least three), its progress kept in a last run of at most 4 KB, and
    in the end the late record is delivered once and every other record exactly once
    """
    backend = BusyDays(busy_day("2026-11-23", 140_000) + busy_day("2026-11-24", 140_000)[:65_000], cap=100)
    run, clock = budgeted_runs(requests_mock, backend, "2026-11-23T00:00:00Z")
    for _ in range(6):  # the backlog, 50,000 a run
        run(budget=1_000)
    assert len(platform.events) == 205_000
    last = lp.Cursor.from_json(platform.last_run).last_time
    assert last is not None
    backend.insert((last - timedelta(hours=6)).strftime("%Y-%m-%d %H:%M:%S"), "late")
    reconciling_runs = reconcile_with_kills(platform, backend, clock, lambda: run(budget=60), 20, (50, 500))
    names = Counter(event["objectName"] for event in platform.events)
    assert reconciling_runs >= 2  # the re-read went on in at least three runs
    assert names["late"] == 1
    assert len(names) == 205_001 and set(names.values()) == {1}


@pytest.mark.slow  # longer than the quick loop allows
@freeze_time(NOW)
def test_a_reconcile_over_runs_starts_over_when_records_move_before_where_it_got_to(
    platform: Platform, requests_mock: Any
) -> None:
    """
    Given 38,000 delivered records over two days, a record that appears late near the end, and a reconcile that
    takes more than one run
    When, between two of its runs, another record appears before the hour the reconcile had got to
    Then the next run finds it out, starts the re-read over, and in the end both late records are delivered once
    and every other record exactly once
    """
    backend = BusyDays(busy_day("2026-11-23", 20_000) + busy_day("2026-11-24", 40_000)[:18_000], cap=100)
    run, _ = budgeted_runs(requests_mock, backend, "2026-11-23T00:00:00Z")
    run(budget=1_000)
    assert len(platform.events) == 38_000
    backend.insert("2026-11-24 10:00:00", "late")
    run(budget=20)
    assert platform.last_run["recount"][1] > 2
    backend.insert("2026-11-23 01:00:00", "earlier")
    platform.logs.clear()
    for _ in range(12):
        run(budget=20)
        if "recount" not in platform.last_run:
            break
    assert any("Reconciling starts over" in line for line in platform.logs)
    names = Counter(event["objectName"] for event in platform.events)
    assert names["late"] == names["earlier"] == 1
    assert len(names) == 38_002 and set(names.values()) == {1}


def test_records_skipped_by_a_first_run_are_saved_counted_and_forgotten_with_their_day() -> None:
    """
    Given a cursor whose first run counted 5,000 records before 21:00 of its base day instead of reading them
    When it is saved and read back, positioned, and moved past its base day
    Then it is equal once read back; its position counts them in both zones; damaged counts are errors that say how
    to recover; once base moves on, they are forgotten
    """
    cursor = lp.Cursor.start(datetime(2026, 11, 22, 21, 30, tzinfo=UTC))
    cursor.skipped = [5000, 21]
    consume(cursor, second("2026-11-22 21:40:00", 1, 2))
    saved = json.loads(json.dumps(cursor.to_json()))
    assert saved["skipped"] == [5000, 21]
    assert lp.Cursor.from_json(saved).to_json() == cursor.to_json()
    assert cursor.positions() == [("UTC", 5002)]
    for damaged in ([5000], [-1, 21], [5, 0], [5, 24], "x"):
        with pytest.raises(lp.StateError, match="Reset the last run"):
            lp.Cursor.from_json({**saved, "skipped": damaged})
    consume(cursor, second("2026-11-24 08:00:00", 1))
    assert cursor.base == "2026-11-23" and cursor.skipped is None and "skipped" not in cursor.to_json()


def test_a_reconcile_in_progress_is_saved_and_read_back() -> None:
    """
    Given a cursor whose reconcile goes on in the next run, and last runs with a damaged reconcile
    When it is saved and read back
    Then it is equal; the damaged ones are errors that say how to recover
    """
    cursor = lp.Cursor.start(datetime(2026, 11, 22, 6, tzinfo=UTC))
    consume(cursor, second("2026-11-22 07:00:00", 1, 2))
    cursor.recount = [1234, 17]
    saved = json.loads(json.dumps(cursor.to_json()))
    assert saved["recount"] == [1234, 17]
    assert lp.Cursor.from_json(saved).to_json() == cursor.to_json()
    for damaged in ([1234], [-1, 3], [5, 0], [5, 48], "x"):
        with pytest.raises(lp.StateError, match="Reset the last run"):
            lp.Cursor.from_json({**saved, "recount": damaged})


def changes_while_reconciling(platform: Platform, api: AuditBackend, requests_mock: Any, at: tuple[int, ...]) -> None:
    """40 records delivered, then one that appears late before the cursor ("late"), so that the next run reconciles;
    in that run, once each of its audit queries numbered `at` is answered, another appears early in the day
    ("sneaked-in-<query>")."""
    api.records = [record(f"2026-11-20 05:{minute:02d}:00", name=f"m{minute}") for minute in range(40)]
    run_fetch(platform, page_size="10")
    api.records.append(record("2026-11-20 05:10:30", name="late"))
    queries_before = len(api.queries)

    def inserting(request: Any, context: Any) -> dict:
        answer = api(request, context)
        if len(api.queries) - queries_before in at:
            api.records.append(record("2026-11-20 05:00:30", name=f"sneaked-in-{len(api.queries)}"))
        return answer

    requests_mock.post(AUDIT_URL, json=inserting)


@freeze_time(NOW)
def test_a_shift_found_while_reconciling_is_named_as_such(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given delivered records, one that appears late before the cursor, and others that appear early in the day while
    the reconcile re-reads it (once, then at every page)
    When fetch-events runs, and again once the Audit Trail is still
    Then the first change makes the reconcile read again, the second ends the run naming reconcile and that the
    Audit Trail changed while it was re-read, never the run's time budget; the next run delivers every late record,
    each once
    """
    changes_while_reconciling(platform, api, requests_mock, (3, 5))  # its first page, then its first page again
    platform.logs.clear()
    with pytest.raises(lp.StalledError, match=r"reconciling .* the Audit Trail changed while it was re-read"):
        run_fetch(platform, page_size="10")
    assert any("Reconciling reads again" in line for line in platform.logs)
    assert not any("time budget" in line for line in platform.logs), platform.logs
    requests_mock.post(AUDIT_URL, json=api)
    run_fetch(platform, page_size="10")
    names = Counter(event["objectName"] for event in platform.events)
    assert names["late"] == 1 and sum(1 for name in names if name.startswith("sneaked-in")) == 2
    assert set(names.values()) == {1} and len(names) == 43


@pytest.mark.slow  # longer than the quick loop allows
@pytest.mark.parametrize("zone", ["UTC", "US/Eastern"])
def test_a_first_run_late_in_a_busy_day_counts_the_day_before_it_by_bisection(
    platform: Platform, api: AuditBackend, zone: str
) -> None:
    """
    Given a day of 6,000 records up to 21:00 UTC, 40 more after it, a first fetch time of 21:30, pages of 100, and a
    server that reads fromDate in UTC or in US/Eastern
    When fetch-events runs for the first time
    Then it counts the records before 21:00 by bisection instead of reading them: its audit calls are at most
    2·⌈log2 6,000⌉ + 4 for the count and two pages for the rest; it delivers every record from 21:30 once and none
    before, and the last run keeps the count
    And when three changes then appear late (03:00, 21:10, 21:40), the next run reconciles: only the one after the
    first fetch time is delivered, once, named exactly; a quiet run after it is one call
    """
    api.zone = zone
    api.records = [
        record(f"2026-11-20 {index * 12 // 3600:02d}:{index * 12 // 60 % 60:02d}:{index * 12 % 60:02d}") for index in range(6000)
    ]
    api.records += [record(f"2026-11-20 21:{minute:02d}:00", name=f"evening{minute}") for minute in range(0, 80, 2)]
    api.records.sort(key=lambda row: row["changeDate"])
    skipped = sum(
        1
        for row in api.records
        if row["changeDate"] < "2026-11-20 21" and (zone == "UTC" or row["changeDate"] >= "2026-11-20 05")
    )
    with freeze_time("2026-11-20T23:50:00Z"):
        run_fetch(platform, first_fetch="2026-11-20T21:30:00Z", page_size="100")
        audit = [query for query in api.queries if "fromDate" in query]
        assert len(audit) <= 2 * math.ceil(math.log2(6000)) + 4 + 2, len(audit)
        assert sorted(e["objectName"] for e in platform.events) == [f"evening{minute}" for minute in range(30, 80, 2)]
        assert platform.last_run["skipped"] == [skipped, 21]
        late = [record("2026-11-20 03:00:00", name="late-early"), record("2026-11-20 21:10:00", name="late-before")]
        api.records += [*late, record("2026-11-20 21:40:00", name="late-after")]
        api.records.sort(key=lambda row: row["changeDate"])
        platform.logs.clear()
        run_fetch(platform, first_fetch="2026-11-20T21:30:00Z", page_size="100")
        assert any("1 late record(s) named exactly" in line or "2 late record(s) named exactly" in line for line in platform.logs)
        names = Counter(e["objectName"] for e in platform.events)
        assert names["late-after"] == 1 and not names["late-before"] and not names["late-early"]
        assert set(names.values()) == {1} and len(names) == 26
        assert platform.last_run["skipped"] == [skipped + (zone == "UTC"), 21]
        before = len(api.queries)
        run_fetch(platform, first_fetch="2026-11-20T21:30:00Z", page_size="100")
        assert len(api.queries) - before == 1


def test_a_change_landing_before_the_skipped_hour_during_a_first_run_keeps_the_position(
    platform: Platform, api: AuditBackend, requests_mock: Any
) -> None:
    """
    Given a first run at 21:30 of a day of 345 records, which counts those before 21:00 by bisection, and a change
    stamped 03:00 that lands after the count and before the first page
    When fetch-events runs; then a change stamped 21:41 appears late, and fetch-events runs three times more
    Then the first page begins one record early, and that record (before the first fetch time) is counted with the
    skipped ones, not delivered; the late change is reconciled once and delivered once; after it the position is
    right (no reconcile), and a quiet run is one call
    """
    api.records = [record(f"2026-11-20 {hour:02d}:{minute:02d}:00") for hour in range(21) for minute in range(0, 60, 4)]
    api.records += [record(f"2026-11-20 21:{minute:02d}:00", name=f"evening{minute}") for minute in range(0, 60, 2)]

    def landing(request: Any, context: Any) -> dict:
        if "first: 100," in request.json()["query"] and not any(r["objectName"] == "landed" for r in api.records):
            api.records.append(record("2026-11-20 03:00:00", name="landed"))  # after the count, before the first page
            api.records.sort(key=lambda row: row["changeDate"])
        return api(request, context)

    with freeze_time("2026-11-20T23:50:00Z"):
        requests_mock.post(AUDIT_URL, json=landing)
        run_fetch(platform, first_fetch="2026-11-20T21:30:00Z", page_size="100")
        assert platform.last_run["skipped"] == [316, 21]  # 315 counted, and the landed one
        requests_mock.post(AUDIT_URL, json=api)
        api.records.append(record("2026-11-20 21:41:00", name="late"))
        api.records.sort(key=lambda row: row["changeDate"])
        run_fetch(platform, first_fetch="2026-11-20T21:30:00Z", page_size="100")
        platform.logs.clear()
        run_fetch(platform, first_fetch="2026-11-20T21:30:00Z", page_size="100")
        assert not any("econcil" in line for line in platform.logs), platform.logs
        before = len(api.queries)
        run_fetch(platform, first_fetch="2026-11-20T21:30:00Z", page_size="100")
        assert len(api.queries) - before == 1
    assert sorted(e["objectName"] for e in platform.events) == sorted(
        [f"evening{minute}" for minute in range(30, 60, 2)] + ["late"]
    )


@freeze_time(NOW)
def test_a_change_while_reconciling_is_read_again_in_the_same_run(
    platform: Platform, api: AuditBackend, requests_mock: Any
) -> None:
    """
    Given delivered records, one that appears late before the cursor, and another that appears early in the day
    while the reconcile re-reads it
    When fetch-events runs
    Then the reconcile reads again and delivers both late records in that run, each once
    """
    changes_while_reconciling(platform, api, requests_mock, (3,))  # once the reconcile's first page is read
    run_fetch(platform, page_size="10")
    names = Counter(event["objectName"] for event in platform.events)
    assert names["late"] == 1 and sum(1 for name in names if name.startswith("sneaked-in")) == 1
    assert set(names.values()) == {1} and len(names) == 42


@freeze_time(NOW)
def test_shift_inside_a_run_is_recovered(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given a record inserted early in the day between two page reads of the same run
    When the run reads the next page
    Then the one-record overlap detects it, the day is re-read and nothing is lost
    """
    api.records = [record(f"2026-11-20 05:{minute:02d}:00", name=f"m{minute}") for minute in range(30)]

    def inserting(request: Any, context: Any) -> dict:
        answer = api(request, context)
        if len(api.queries) == 1:
            api.records.append(record("2026-11-20 01:00:00", name="sneaked-in"))
        return answer

    requests_mock.post(AUDIT_URL, json=inserting)
    run_fetch(platform, page_size="10")
    names = [e["objectName"] for e in platform.events]
    assert set(names) == {r["objectName"] for r in api.records}
    assert names.count("sneaked-in") == 1


@freeze_time(NOW)
def test_time_budget_ends_the_run_cleanly_keeping_progress(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given a run whose time budget is spent after the first page
    When fetch-events runs
    Then the first page is sent and saved, and the run ends without an error
    """
    api.records = [record(f"2026-11-20 05:{minute:02d}:00", name=f"m{minute}") for minute in range(30)]
    clock = FakeClock()
    client = lp.AuditTrailClient(
        lp.Settings.from_params(base_params(page_size="10")), clock=clock, sleep=clock.sleep, time_budget=5
    )

    def slow(request: Any, context: Any) -> dict:
        clock.now += 3
        return api(request, context)

    requests_mock.post(AUDIT_URL, json=slow)
    lp.fetch_events_command(client, lp.Settings.from_params(base_params(page_size="10")))
    assert 0 < len(platform.events) < 30
    assert lp.Cursor.from_json(platform.last_run).position() == len(platform.events)
    assert any("time budget" in line for line in platform.logs)


@freeze_time(NOW)
def test_transient_failure_mid_run_keeps_what_was_sent(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given the API fails for good after the first page
    When fetch-events runs
    Then the first page is sent and saved, the run raises, and the next run goes on from there
    """
    api.records = [record(f"2026-11-20 05:{minute:02d}:00", name=f"m{minute}") for minute in range(25)]
    knows_schema(platform)
    requests_mock.post(AUDIT_URL, [{"json": api}] + [{"status_code": 503}] * 4)
    with pytest.raises(lp.TransientError):
        run_fetch(platform, page_size="10")
    assert len(platform.events) == 9  # the page's last second may go on in the next page: it waits for it
    requests_mock.post(AUDIT_URL, json=api)
    run_fetch(platform, page_size="10")
    assert [e["objectName"] for e in platform.events] == [f"m{minute}" for minute in range(25)]


def test_batches_fit_one_platform_chunk() -> None:
    """
    Given event lines of about 300 KB each
    When they are batched
    Then no batch exceeds the send limit, and a single oversized event still goes alone
    """
    batch = lp.Batch(max_events=500)
    big = lp.event_line({"newValue": "x" * 300_000}, datetime(2026, 11, 23, tzinfo=UTC))
    size = len(big) + 1
    assert batch.fits(size)
    batch.add(big, size)
    batch.add(big, size)
    batch.add(big, size)
    assert not batch.fits(size)
    assert len(batch.take()) == 3
    assert batch.fits(2_000_001)


def test_event_line_is_the_json_of_the_event() -> None:
    """
    Given records as LivePerson writes them, with quotes, unicode, newlines and literals, an empty one, and one
    that already has a _time
    When each becomes an event line
    Then the line is exactly json.dumps of the event (the record with _time in UTC last)
    """
    when = datetime(2026, 11, 23, 10, 0, 0, 250000, tzinfo=UTC)
    base = load("audit_page.json")["data"]["auditData"][0]
    samples = [base, {**base, "newValue": 'a "b"\n\u00fc 😀', "originatorIsLpa": True, "element": None}, {}, {"_time": "x"}]
    for sample in samples:
        assert lp.event_line(sample, when) == json.dumps(lp.to_event(sample, when))
    assert json.loads(lp.event_line(base, when))["_time"] == "2026-11-23T10:00:00.25Z"


# ---------------------------------------------------------------- get-events, test-module, main


@freeze_time(NOW)
def test_get_events_shows_a_table_and_does_not_push_by_default(platform: Platform, api: AuditBackend) -> None:
    """
    Given records in the last three days and one older
    When liveperson-get-events runs with limit 2
    Then the two oldest in range are returned under LivePerson.AuditEvent, shown as a table, and nothing is pushed
    """
    api.records = [record("2026-11-20 10:00:00", name="old"), *[record(f"2026-11-22 10:00:0{i}", name=f"n{i}") for i in range(3)]]
    result = lp.get_events_command(make_client(), lp.Settings.from_params(base_params()), {"limit": "2"})
    assert [e["objectName"] for e in result.outputs] == ["n0", "n1"]
    assert result.outputs_prefix == "LivePerson.AuditEvent"
    assert "LivePerson Audit Trail events (2)" in result.readable_output
    assert "| n0 |" in result.readable_output.replace("|n0|", "| n0 |")
    assert platform.sent == []
    assert platform.last_run == {}


@freeze_time(NOW)
def test_get_events_pushes_when_asked(platform: Platform, api: AuditBackend) -> None:
    """
    Given should_push_events=true and an end time
    When liveperson-get-events runs
    Then the events up to the end time are sent to XSIAM
    """
    api.records = [record(f"2026-11-22 10:00:0{i}", name=f"n{i}") for i in range(3)]
    args = {"should_push_events": "true", "start_time": "2026-11-22T00:00:00Z", "end_time": "2026-11-22T10:00:01Z"}
    lp.get_events_command(make_client(), lp.Settings.from_params(base_params()), args)
    assert [e["objectName"] for e in platform.events] == ["n0", "n1"]


class BusyDays:
    """A fast in-memory Audit Trail behind requests-mock for scale tests: many records, each made only when a page
    holds it. Ascending changeDate, ties in insertion order, fromDate a UTC day, `cap` records a page at most, and
    X-Total-Count counting only the page. `insert` adds a record (a late one) at its place in time."""

    def __init__(self, times: list[str], cap: int | None = None):
        self.rows: list[tuple[str, str]] = [(when, f"r{index}") for index, when in enumerate(times)]
        self.cap = cap
        self.calls = 0
        self.on_call: Any = None  # called before each answer (a kill, a clock that moves)

    def insert(self, when: str, name: str) -> None:
        import bisect  # noqa: PLC0415

        self.rows.insert(bisect.bisect_right(self.rows, (when, "\uffff")), (when, name))

    def __call__(self, request: Any, context: Any) -> dict[str, Any]:
        import bisect  # noqa: PLC0415

        self.calls += 1
        if self.on_call is not None:
            self.on_call()
        query = request.json()["query"]
        if "__schema" in query or "fromDate" not in query:  # the client learning the schema: as the unit tests' backend
            return AuditBackend()(request, context)
        day = re.search(r'fromDate: "([\d-]+)"', query).group(1)  # type: ignore[union-attr]
        first = int((re.search(r"first: (\d+)", query) or [None, 50])[1])
        offset = int((re.search(r"offset: (\d+)", query) or [None, 0])[1])
        start = bisect.bisect_left(self.rows, (f"{day} 00:00:00", ""))
        begin = start + offset
        rows = self.rows[begin:][: min(first, self.cap or first)]
        context.headers["X-Total-Count"] = str(len(rows))
        return {"data": {"auditData": [{"objectName": name, "changeDate": f"{when}.0"} for when, name in rows]}}


def serve(requests_mock: Any, backend: Any) -> None:
    requests_mock.get(DOMAIN_URL, json=load("domain.json"))
    requests_mock.get(SENTINEL_DOMAIN_URL, json=load("domain_sentinel.json"))
    requests_mock.post(TOKEN_URL, json=load("token.json"))
    requests_mock.post(AUDIT_URL, json=backend)


@pytest.mark.slow  # longer than the quick loop allows
@freeze_time(NOW)
def test_a_reconcile_after_a_first_run_that_skipped_a_busy_day_counts_it_again_and_goes_on_over_runs(
    platform: Platform, requests_mock: Any
) -> None:
    """
    Given a first run at 20:30 of a day of 100,000 records (capped at 100 a page), which counted the 83,334 before
    20:00 by bisection, and then two changes that appear late: one at 03:00, one at 21:00
    When fetch-events runs with a time budget of 80 audit calls, far less than re-reading the day (1,000 pages), and
    some runs are killed at a random audit call
    Then each reconcile counts the skipped records again by bisection and re-reads from 20:00 on, going on from run
    to run; the 21:00 change is delivered once, named by its hour's digest, the 03:00 one never, every other record
    once
    """
    knows_schema(platform)  # learned by an earlier run: this test is about what follows
    backend = BusyDays(busy_day("2026-11-23", 100_000), cap=100)
    run, clock = budgeted_runs(requests_mock, backend, "2026-11-23T20:30:00Z")
    run(budget=1_000)
    first_run_calls = backend.calls
    assert first_run_calls <= 2 * math.ceil(math.log2(100_000)) + 4 + 170  # the count, then 16,666 records at 100 a page
    assert platform.last_run["skipped"] == [83_334, 20]
    delivered = len(platform.events)
    backend.insert("2026-11-23 03:00:00", "late-early")
    backend.insert("2026-11-23 21:00:00", "late")
    platform.logs.clear()
    reconciling_runs = reconcile_with_kills(platform, backend, clock, lambda: run(budget=8), 30, (10, 70))
    names = Counter(event["objectName"] for event in platform.events)
    assert reconciling_runs >= 2
    assert names["late"] == 1 and not names["late-early"]
    assert len(platform.events) == delivered + 1 and set(names.values()) == {1}
    assert any("hour 21 has 1 late record(s), named by its digest" in line for line in platform.logs)
    assert platform.last_run["skipped"] == [83_335, 20]


def busy_day(day: str, count: int) -> list[str]:
    """`count` changeDates spread evenly over one UTC day, ascending (several in a second when count > 86,400)."""
    midnight = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return [(midnight + timedelta(seconds=index * 86_400 // count)).strftime("%Y-%m-%d %H:%M:%S") for index in range(count)]


@freeze_time(NOW)
def test_get_events_finds_a_late_start_by_bisection(platform: Platform, requests_mock: Any) -> None:
    """
    Given a day of 100,000 records, and an Audit Trail whose X-Total-Count counts only the page
    When liveperson-get-events asks for 5 events from 21:30 that day
    Then the five records from 21:30 on are returned, found with at most 2*ceil(log2 n) + 4 audit calls (not by
    paging from midnight)
    """
    knows_schema(platform)  # learned by an earlier run: this test is about what follows
    backend = BusyDays(busy_day("2026-11-22", 100_000))
    serve(requests_mock, backend)
    args = {"limit": "5", "start_time": "2026-11-22T21:30:00Z", "end_time": "2026-11-23T00:00:00Z"}
    result = lp.get_events_command(make_client(), lp.Settings.from_params(base_params()), args)
    expected = [name for when, name in backend.rows if when >= "2026-11-22 21:30:00"][:5]
    assert [event["objectName"] for event in result.outputs] == expected
    assert backend.calls <= 2 * 17 + 4, backend.calls  # ceil(log2(100,000)) = 17; with the client's first contact


@freeze_time(NOW)
def test_get_events_that_cannot_finish_says_so_in_its_own_words(platform: Platform, requests_mock: Any) -> None:
    """
    Given an Audit Trail that answers slowly, so that the command's time budget is spent before it reaches its limit
    When liveperson-get-events runs
    Then its error names the command and what to change, not a scheduled run's "the next run goes on"
    """
    knows_schema(platform)  # learned by an earlier run: this test is about what follows
    backend = BusyDays(busy_day("2026-11-22", 5_000))
    serve(requests_mock, backend)
    clock = FakeClock()
    backend.on_call = lambda: clock.sleep(10)
    settings = lp.Settings.from_params(base_params(page_size="10"))
    client = lp.AuditTrailClient(settings, clock=clock, sleep=clock.sleep, time_budget=300)
    args = {"limit": "1000", "start_time": "2026-11-22T00:00:00Z", "end_time": "2026-11-23T00:00:00Z"}
    with pytest.raises(lp.LivePersonError, match="liveperson-get-events") as error:
        lp.get_events_command(client, settings, args)
    assert "next run" not in str(error.value)
    assert "limit" in str(error.value) and "start_time" in str(error.value)


@pytest.mark.parametrize(
    ("given", "domain_calls"), [("", [DOMAIN_URL, SENTINEL_DOMAIN_URL]), ("va.sentinel.liveperson.net", [DOMAIN_URL])]
)
def test_test_module_ok(platform: Platform, api: AuditBackend, requests_mock: Any, given: str, domain_calls: list[str]) -> None:
    """
    Given a working account, with the Sentinel host left empty or set
    When test-module runs
    Then it answers ok after the Domain API lookups (Sentinel's only when it is not set), one token, the queries that
    learn the schema and one page query, logs the hosts and the schema it found, and sends nothing
    """
    platform.command, platform.params = "test-module", base_params(auth_server_url=given)
    lp.main()
    assert platform.results == ["ok"]
    urls = [r.url for r in requests_mock.request_history]
    assert urls[: len(domain_calls) + 1] == [*domain_calls, TOKEN_URL]
    after_token = len(domain_calls) + 1
    assert set(urls[after_token:]) == {AUDIT_URL} and len(page_queries(api)) == 1
    assert any(line.startswith("The Audit Trail's schema (by asking): orderBy a list of strings") for line in platform.logs)
    assert any("accountConfigReadOnly at va.ac.liveperson.net" in line for line in platform.logs)
    assert "first: 500," in requests_mock.request_history[-1].json()["query"]  # the page size fetch-events asks
    assert platform.sent == []
    assert platform.last_run == {}


@pytest.mark.parametrize(
    ("url", "status", "stage"),
    [
        (DOMAIN_URL, 401, "Domain API lookup failed"),
        (TOKEN_URL, 401, "Authentication (Sentinel token, OAuth 2.0) failed"),
        (AUDIT_URL, 403, "Audit Trail query failed"),
    ],
)
def test_test_module_names_the_failing_stage(
    platform: Platform, api: AuditBackend, requests_mock: Any, url: str, status: int, stage: str
) -> None:
    """
    Given one stage of the connection fails
    When test-module runs
    Then its answer names that stage and why
    """
    method = requests_mock.get if url == DOMAIN_URL else requests_mock.post
    method(url, status_code=status)
    assert lp.test_module(make_client()).startswith(stage)


# What test-module answers when one stage cannot be reached or keeps failing: it tries once and names what to check.
QUICK_TEST_FAILURES = [
    (
        DOMAIN_URL,
        {
            "exc": requests.exceptions.ConnectionError(
                "Failed to resolve 'api.liveperson.net' ([Errno -2] Name or service not known)"
            )
        },
        "Domain API lookup failed: "
        'Could not reach api.liveperson.net (host name not found): check "Domain API URL" and "Use system proxy settings".',
    ),
    (
        DOMAIN_URL,
        {"exc": requests.exceptions.SSLError("certificate verify failed")},
        "Domain API lookup failed: Could not connect to api.liveperson.net: its TLS certificate could not be verified. "
        "If a proxy inspects TLS, the platform must trust that proxy's certificate; for testing only, select "
        '"Trust any certificate (not secure)".',
    ),
    (
        DOMAIN_URL,
        {"exc": requests.exceptions.ProxyError("Unable to connect to proxy")},
        "Domain API lookup failed: Could not connect to api.liveperson.net: the proxy failed the connection: check "
        '"Use system proxy settings" and the proxy the platform uses.',
    ),
    (
        DOMAIN_URL,
        {"exc": requests.exceptions.ConnectionError("[Errno 111] Connection refused")},
        "Domain API lookup failed: "
        'Could not reach api.liveperson.net (connection refused): check "Domain API URL" and "Use system proxy settings".',
    ),
    (
        DOMAIN_URL,
        {"exc": requests.exceptions.ConnectTimeout("timed out")},
        'Domain API lookup failed: Could not reach api.liveperson.net (no answer within 10 s): check "Domain API URL"',
    ),
    (
        SENTINEL_DOMAIN_URL,
        {"status_code": 503},
        "Domain API lookup failed: api.liveperson.net answered server error (503): "
        "a problem on LivePerson's side; try again in a few minutes.",
    ),
    (
        TOKEN_URL,
        {"exc": requests.exceptions.ReadTimeout("read timed out")},
        "Authentication (Sentinel token, OAuth 2.0) failed: Could not "
        "reach va.sentinel.liveperson.net (no answer within 10 s): LivePerson's Domain API named this host for the account",
    ),
    (
        TOKEN_URL,
        {"status_code": 429},
        "Authentication (Sentinel token, OAuth 2.0) failed: va.sentinel.liveperson.net answered rate limited (429)",
    ),
    (
        AUDIT_URL,
        {"exc": requests.exceptions.ConnectionError("Connection reset by peer")},
        "Audit Trail query failed: Could "
        "not reach va.ac.liveperson.net (connection reset): LivePerson's Domain API named this host",
    ),
    (AUDIT_URL, {"status_code": 500}, "Audit Trail query failed: va.ac.liveperson.net answered server error (500)"),
]


@pytest.mark.parametrize(("url", "failure", "answer"), QUICK_TEST_FAILURES)
def test_test_module_tries_once_and_says_what_to_check(
    platform: Platform,
    api: AuditBackend,
    requests_mock: Any,
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    failure: dict,
    answer: str,
) -> None:
    """
    Given one stage whose host refuses connections, does not answer in time, or answers 429 or 5xx
    When test-module runs through main
    Then that stage is tried once with the short timeout, without a pause, and the answer names the stage, the host
    and what to check, and never speaks of a next run
    """
    pauses: list[float] = []
    monkeypatch.setattr(lp.time, "sleep", pauses.append)
    method = requests_mock.get if "baseURI" in url else requests_mock.post
    method(url, **failure)
    platform.command = "test-module"
    lp.main()
    assert platform.results[-1].startswith(answer)
    assert "next run" not in platform.results[-1]
    assert sum(r.url == url for r in requests_mock.request_history) == 1
    assert {r.timeout for r in requests_mock.request_history} == {lp.TEST_TIMEOUT_SECONDS}
    assert pauses == []


def test_scheduled_runs_still_retry_what_test_module_tries_once(
    platform: Platform, api: AuditBackend, requests_mock: Any
) -> None:
    """
    Given a Domain API whose connections break before the answer (reset by the peer)
    When a fetch (not test-module) resolves the host
    Then it retries after LivePerson's advised pauses with the long timeout, and says which host failed, how, what
    to check, and that the next run resumes, never in the platform library's words
    """
    requests_mock.get(DOMAIN_URL, exc=requests.exceptions.ConnectionError("Connection reset by peer"))
    client = make_client()
    with pytest.raises(lp.TransientError, match="next run resumes") as failure:
        client.resolver.audit_host()
    assert client._clock.pauses == [5, 10, 15]  # type: ignore[attr-defined]
    assert {r.timeout for r in requests_mock.request_history} == {lp.REQUEST_TIMEOUT_SECONDS}
    assert 'network failure at api.liveperson.net (connection reset; check "Domain API URL"' in str(failure.value)
    assert "server URL parameter" not in str(failure.value)


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (requests.exceptions.ConnectionError("[Errno 111] Connection refused"), "connection refused"),
        (requests.exceptions.ConnectTimeout("timed out"), "no answer within 30 s"),
        (requests.exceptions.ConnectionError("Failed to resolve 'api.liveperson.net'"), "host name not found"),
    ],
)
def test_a_host_that_cannot_be_connected_to_fails_the_run_at_once(
    platform: Platform, api: AuditBackend, requests_mock: Any, failure: Exception, reason: str
) -> None:
    """
    Given a Domain API that refuses connections, does not take them in time, or whose name does not resolve
    When a fetch resolves the host
    Then it fails at once, without pausing to retry (the next scheduled run tries again), naming the host, the
    reason and the setting to check
    """
    requests_mock.get(DOMAIN_URL, exc=failure)
    client = make_client()
    with pytest.raises(lp.ConnectionFailedError) as raised:
        client.resolver.audit_host()
    assert client._clock.pauses == []  # type: ignore[attr-defined]
    assert str(raised.value).startswith(f'Could not reach api.liveperson.net ({reason}): check "Domain API URL"')
    assert sum(r.url == DOMAIN_URL for r in requests_mock.request_history) == 1


def test_main_error_never_shows_the_secret_or_token(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given an unexpected failure whose text contains the client secret and the bearer token
    When main reports it
    Then both are redacted in the error entry
    """
    platform.command = "liveperson-get-events"
    requests_mock.post(TOKEN_URL, json={"access_token": "bearer-token-value-123"})
    requests_mock.post(AUDIT_URL, exc=RuntimeError(f"odd failure with {SECRET} and bearer-token-value-123"))
    with pytest.raises(SystemExit):
        lp.main()
    contents = platform.results[-1]["Contents"]
    assert "odd failure" in contents
    assert SECRET not in contents
    assert "bearer-token-value-123" not in contents


def test_main_fetch_events_end_to_end(platform: Platform, api: AuditBackend) -> None:
    """
    Given a configured instance and new records
    When the platform runs fetch-events through main
    Then the events are sent and the cursor saved
    """
    with freeze_time(NOW):
        api.records = [record("2026-11-24 11:57:30"), record("2026-11-24 11:59:30", name="too young")]
        platform.params = base_params(first_fetch="5 minutes")
        lp.main()
    assert [e["_time"] for e in platform.events] == ["2026-11-24T11:57:30Z"]  # the other waits for the settle delay
    assert platform.last_run["last"] == "2026-11-24T11:57:30Z"


def test_unknown_command_is_an_error(platform: Platform) -> None:
    """
    Given a command the integration does not have
    When main runs
    Then it reports an error
    """
    platform.command = "liveperson-something"
    with pytest.raises(SystemExit):
        lp.main()
    assert "not implemented" in platform.results[-1]["Contents"]


def test_certificate_failure_is_not_retried(platform: Platform, requests_mock: Any) -> None:
    """
    Given the Domain API's certificate cannot be verified
    When the host is resolved
    Then it fails at once, without retry pauses, and points at the certificate setting
    """
    requests_mock.get(DOMAIN_URL, exc=requests.exceptions.SSLError("certificate verify failed"))
    client = make_client()
    with pytest.raises(lp.ConnectionFailedError, match="Trust any certificate"):
        client.resolver.refresh()
    assert client._clock.pauses == []  # type: ignore[attr-defined]


SCHEMA = Path(__file__).parents[4] / "Tests" / "fake_liveperson" / "audit_schema.graphql"


@pytest.mark.parametrize(
    "query",
    [
        lp.AuditQuery(),
        lp.AuditQuery(first=1, offset=0),
        lp.AuditQuery(
            from_date=date(2024, 5, 1),
            to_date=date(2024, 5, 31),
            first=500,
            offset=12500,
            users=('quote " and backslash \\ user', "émile@example.com", "emoji 🙂", "new\nline"),
            component_types=("ACUserObject",),
            language="en-US",
            lpa=False,
            automatic_updates=True,
            order_by=("changeTimestamp", "objectType"),
            order_direction=("ASC", "DESC"),
        ),
        lp.AuditQuery(fields=tuple(name for name in lp.AUDIT_FIELDS if name != "actionType")),
    ],
)
def test_built_queries_are_valid_graphql_for_the_audit_schema(query: lp.AuditQuery) -> None:
    """
    Given audit queries with every argument, odd characters in strings and lists, and the reduced field set
    When they are built, parsed and validated against the auditData schema kept in Tests/
    Then they are valid, and the parsed arguments hold exactly the values given
    """
    import graphql  # noqa: PLC0415 - a test-only dependency

    schema = graphql.build_schema(SCHEMA.read_text())
    document = graphql.parse(lp.build_audit_query(query)["query"])
    assert graphql.validate(schema, document) == []
    field_node = document.definitions[0].selection_set.selections[0]  # type: ignore[attr-defined]
    arguments = {arg.name.value: graphql.value_from_ast_untyped(arg.value) for arg in field_node.arguments}
    assert arguments.get("users", []) == list(query.users)
    assert arguments["timezone"] == "UTC"
    assert [selection.name.value for selection in field_node.selection_set.selections] == list(query.fields)


def test_unresolvable_host_is_not_retried(platform: Platform, requests_mock: Any) -> None:
    """
    Given a Domain API host name that does not resolve
    When the host is resolved
    Then it fails at once, without retry pauses, naming the host
    """
    failure = requests.exceptions.ConnectionError("Failed to resolve 'api.liveperson.net' ([Errno -2] Name or service not known)")
    requests_mock.get(DOMAIN_URL, exc=failure)
    client = make_client()
    with pytest.raises(lp.ConnectionFailedError, match=re.escape("api.liveperson.net")):
        client.resolver.refresh()
    assert client._clock.pauses == []  # type: ignore[attr-defined]


def bulk_change_records(rng: random.Random) -> list[dict[str, Any]]:
    """A quiet hour, then one bulk change: 1,500 different records stamped 06:00:00 (one admin giving 1,500 users a
    skill), then a quiet hour again."""
    records = [record(f"2026-11-20 05:{minute:02d}:00", name=f"before{minute}") for minute in range(20)]
    bulk = [record("2026-11-20 06:00:00", name=f"user{index:04d}") for index in range(1500)]
    rng.shuffle(bulk)
    records += bulk
    records += [record(f"2026-11-20 07:{minute:02d}:00", name=f"after{minute}") for minute in range(20)]
    return records


def bulk_server(api: AuditBackend, tie_columns: str, seed: int) -> None:
    """The server of issue 19's row 3: at most 1,000 records a page, silently; ties in a new order on every query."""
    api.records = bulk_change_records(random.Random(seed))
    api.cap, api.shuffle_ties, api.tie_columns = 1000, random.Random(seed), tie_columns


def lost_and_doubled(platform: Platform, api: AuditBackend) -> tuple[int, int]:
    delivered = Counter(e["objectName"] for e in platform.events)
    expected = Counter(r["objectName"] for r in api.records)
    return sum((expected - delivered).values()), sum((delivered - expected).values())


@freeze_time(NOW)
@pytest.mark.parametrize("seed", range(3))
def test_a_bulk_second_larger_than_a_page_is_read_exactly_in_the_tie_breaking_order(
    platform: Platform, api: AuditBackend, seed: int
) -> None:
    """
    Given a bulk change of 1,500 different records in one second, a server that gives at most 1,000 records a page
    and orders ties anew on every query, but honours tie-breaking orderBy columns
    When fetch-events drains
    Then the second is read in the order of those columns: lost 0, duplicated 0, and nothing is said to be inexact
    """
    bulk_server(api, "honoured", seed)
    for _ in range(3):
        run_fetch(platform, max_fetch="50000")
    assert lost_and_doubled(platform, api) == (0, 0)
    assert not [line for line in platform.logs if "could not be read exactly" in line or "different orders" in line]
    assert platform.health == [{"eventsPulled": len(api.records)}, {"eventsPulled": 0}, {"eventsPulled": 0}]
    assert any("orderBy" in query and '"objectName"' in query for query in api.queries)


@freeze_time(NOW)
@pytest.mark.parametrize("tie_columns", ["refused", "ignored"])
def test_a_bulk_second_without_an_order_is_named_in_the_log_and_the_health(
    platform: Platform, api: AuditBackend, tie_columns: str
) -> None:
    """
    Given the same bulk change, and a server that refuses the tie-breaking orderBy columns, or silently ignores them
    When fetch-events drains
    Then the reads of the second never agree, and the log and the instance's health name that second as not read
    exactly (every record of the others is delivered once)
    """
    bulk_server(api, tie_columns, 1)
    for _ in range(3):
        run_fetch(platform, max_fetch="50000")
    said = [line for line in platform.logs if "2026-11-20T06:00:00Z could not be read exactly" in line]
    assert len(said) == 1
    assert said[0] in platform.health
    others = Counter(e["objectName"] for e in platform.events if not e["objectName"].startswith("user"))
    assert others == Counter(r["objectName"] for r in api.records if not r["objectName"].startswith("user"))
    assert sum(1 for e in platform.events if e["objectName"].startswith("user")) == 1500
    if tie_columns == "refused":
        assert platform.context["order_columns"]["value"] == dict.fromkeys(lp.TIE_COLUMNS, False)


@freeze_time(NOW)
def test_a_refused_tie_column_is_dropped_once_and_remembered(platform: Platform, api: AuditBackend) -> None:
    """
    Given a server that honours the tie-breaking columns but refuses oldValue (a GraphQL error, as for any refusal)
    When fetch-events reads a bulk second, and later another one
    Then oldValue is tried once (and the same query without it is accepted), dropped, said once in the log and
    remembered: the second bulk second is asked without it, with no trial; every record arrives once
    """
    bulk_server(api, "honoured", 2)
    api.refused_columns = {"oldValue"}
    run_fetch(platform, max_fetch="50000")
    tried = [query for query in api.queries if re.search(r'orderBy: \[[^]]*"oldValue"', query)]
    assert len(tried) == 1
    assert sum("refused orderBy oldValue" in line for line in platform.logs) == 1
    assert platform.context["order_columns"]["value"] == {name: name != "oldValue" for name in lp.TIE_COLUMNS}
    before = len(api.queries)
    api.records += [record("2026-11-20 08:00:00", name=f"later{index:04d}") for index in range(1200)]
    run_fetch(platform, max_fetch="50000")
    later = api.queries[before:]
    assert not [query for query in later if '"oldValue"' in query.split("{", 2)[1]]
    assert [query for query in later if '"newValue"' in query.split("{", 2)[1]]
    assert lost_and_doubled(platform, api) == (0, 0)


@freeze_time(NOW)
def test_a_tie_column_refused_after_it_was_accepted_is_judged_again(platform: Platform, api: AuditBackend) -> None:
    """
    Given tie-breaking columns all accepted (learned on a first bulk second), and a server that refuses objectName
    from then on
    When fetch-events reads a second bulk second (its records differ in newValue too)
    Then the refused query makes the collector judge the columns again: objectName is dropped, the run goes on, and
    every record arrives once
    """
    bulk_server(api, "honoured", 3)
    run_fetch(platform, max_fetch="50000")
    assert platform.context["order_columns"]["value"] == dict.fromkeys(lp.TIE_COLUMNS, True)
    api.refused_columns = {"objectName"}
    api.records += [record("2026-11-20 08:00:00", name=f"later{index:04d}", new=f"v{index:04d}") for index in range(1200)]
    run_fetch(platform, max_fetch="50000")
    assert platform.context["order_columns"]["value"] == {name: name != "objectName" for name in lp.TIE_COLUMNS}
    assert sum("refused orderBy objectName" in line for line in platform.logs) == 1
    assert lost_and_doubled(platform, api) == (0, 0)


@pytest.mark.parametrize(
    "stamp",
    ["2026-11-20 14:35:23", "2026-11-20 23:13:18", "2026-11-20 23:30:00"],
    ids=["before since", "after since", "in the twins' second"],
)
def test_a_record_landing_before_a_second_of_identical_records_while_it_is_carried_is_seen(
    platform: Platform, api: AuditBackend, requests_mock: Any, stamp: str
) -> None:
    """
    Given a first fetch time of 23:00, records of that day before and after it, and one second of 30 identical
    records, more than the server's silent cap of 12 a page, so that it is read over several pages
    When a change stamped hours earlier in that day (before the first fetch time, or after it), or in that very
    second (the server honouring the tie-breaking columns, which order it before the twins), lands while that second
    is read, before its start, and fetch-events runs until it has nothing left
    Then the change is seen: delivered once if it is after the first fetch time, and never if before; every other
    record is delivered exactly once (the twins 30 times, not 31)
    """
    api.cap = 12
    api.tie_columns = "honoured"
    api.records = [record(f"2026-11-20 {hour:02d}:00:00", name=f"early{hour}") for hour in (8, 9, 10)]
    api.records += [record(f"2026-11-20 23:1{minute}:00", name=f"before{minute}") for minute in range(5)]
    api.records += [record("2026-11-20 23:30:00", name="twin") for _ in range(30)]
    api.records += [record(f"2026-11-20 23:4{minute}:00", name=f"after{minute}") for minute in range(5)]
    twins_start = 8
    late = record(stamp, name="late")

    def answer(request: Any, context: Any) -> Any:
        query = request.json()["query"]
        offset = re.search(r"offset: (\d+)", query)
        inside = offset and int(offset[1]) > twins_start and '"objectName"' in query  # a page inside the twins' second
        if inside and late not in api.records:
            api.records.append(late)
        return api(request, context)

    requests_mock.post(AUDIT_URL, json=answer)
    with freeze_time("2026-11-20T23:50:00Z"):
        for _ in range(3):
            run_fetch(platform, first_fetch="2026-11-20T23:00:00Z", page_size="20")
    assert late in api.records
    delivered = Counter((e["changeDate"], e["objectName"]) for e in platform.events)
    expected = Counter((r["changeDate"], r["objectName"]) for r in api.records if r["changeDate"] >= "2026-11-20 23:00:00")
    assert delivered[(late["changeDate"], "late")] == (1 if stamp >= "2026-11-20 23:00:00" else 0)
    assert delivered[("2026-11-20 23:30:00.0", "twin")] == 30
    assert delivered == expected


# ---------------------------------------------------------------- the pager against a model of the server


class ModelTrail:
    """The Audit Trail as the pager sees it, in process (no HTTP, no client): the ascending result of one day, read
    by (offset, first). It plays what the documentation leaves open, and the live edge:
    - `cap`: at most that many records a page, silently;
    - `ties`: the order of records that share a changeTimestamp: "kept" (one order, whatever is asked: a record that
      becomes visible late takes a place anywhere among its second's), "shuffled" (each query anew, whatever is
      asked), "columns" (shuffled, unless the tie-breaking columns are asked: then by them);
    - before each query, records may land: at the end of the result (in its last second or a later one), and with
      `late`, before the pager's position, or inside the large second it is reading (`landed_before` is then set: a
      shift may be raised).
    """

    def __init__(self, rng: random.Random, records: list[dict[str, Any]], cap: int | None, ties: str, late: bool):
        self.rng, self.records, self.cap, self.ties, self.late = rng, list(records), cap, ties, late
        self.fractions = any(not r["changeDate"].endswith(".0") for r in records)
        self.ranks = list(range(len(records)))  # the kept order among records of one changeDate
        self.landed_before = False
        self.landed_inside: list[datetime] = []  # the large seconds records landed in while they were read
        self.queries = 0

    def add(self, row: dict[str, Any], anywhere: bool) -> None:
        self.ranks.append(self.rng.uniform(-1, len(self.records)) if anywhere else len(self.records))
        self.records.append(row)

    def order(self, tie_break: bool) -> list[dict[str, Any]]:
        def key(index: int) -> tuple:
            row = self.records[index]
            if self.ties == "kept":
                return (row["changeDate"], self.ranks[index])
            if self.ties == "columns" and tie_break:
                return (row["changeDate"], *(row.get(name, "") for name in lp.TIE_COLUMNS), index)
            return (row["changeDate"], self.rng.random())

        return [self.records[index] for index in sorted(range(len(self.records)), key=key)]

    def page(self, ask: lp.PageAsk, first: int, state: lp.PagerState) -> tuple[list[dict[str, Any]], bool]:
        self.queries += 1
        self.land(state)
        rows, offset = self.order(ask.tie_break), ask.offset
        page = rows[offset:][: min(first, self.cap or first)]
        return page, offset + len(page) >= len(rows)

    def land(self, state: lp.PagerState) -> None:
        # at the end: a change made just now (once the pager has read the end, it is the next read's)
        if self.rng.random() < 0.15 and not state.done:
            last = max((r["changeDate"] for r in self.records), default="2026-11-23 10:00:00.0")
            moment = datetime.fromisoformat(last[:19]) + timedelta(seconds=self.rng.choice([0, 0, 1, 3]))
            self.add(model_record(moment, f"edge{len(self.records)}", self.rng, self.fractions), anywhere=False)
        boundary = state.after + timedelta(seconds=1) if state.after else state.expected
        chance = 0.2 if state.carried else 0.05  # more often while a large second is carried: its pages must show it
        if self.late and boundary is not None and self.rng.random() < chance:  # late, before the position
            earlier = [r for r in self.records if r["changeDate"][:19] < format_naive(boundary)]
            if earlier:
                moment = datetime.fromisoformat(self.rng.choice(earlier)["changeDate"][:19])
                self.add(model_record(moment, f"late{len(self.records)}", self.rng, self.fractions), anywhere=True)
                self.landed_before = True
        # once: a second read four times takes one change landing in it (READS_OF_A_LARGE_SECOND), however timed
        inside = not self.landed_inside and state.expected and state.carried is not None
        if self.late and inside and self.rng.random() < 0.3:  # late, inside the large second being read
            name = self.rng.choice(["a", "m", "z"]) + f"-late{len(self.records)}"  # before, among or after its records
            self.add(model_record(state.expected, name, self.rng, self.fractions), anywhere=True)
            self.landed_before = True
            self.landed_inside.append(state.expected)


def format_naive(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def model_record(moment: datetime, name: str, rng: random.Random, fractions: bool) -> dict[str, Any]:
    fraction = f"{rng.choice([0, 0, 250, 500, 999]):03d}" if fractions else "0"
    element = rng.choice(["Skills", "Name", "Profile"])
    return {"objectName": name, "element": element, "newValue": "x", "changeDate": f"{format_naive(moment)}.{fraction}"}


def model_history(rng: random.Random, bulk: int, fractions: bool, identical: bool) -> list[dict[str, Any]]:
    """Seconds of 1 to 6 records (identical twins among them), and seconds of `bulk` records: different ones, or
    (one in two, with `identical`) identical ones."""
    records: list[dict[str, Any]] = []
    moment = datetime(2026, 11, 23, 10)
    seconds = rng.randint(5, 40)
    bulk_at = set(rng.sample(range(seconds), 1 if bulk > lp.MAX_PAGE_SIZE else rng.randint(0, 3)))
    for index in range(seconds):
        moment += timedelta(seconds=rng.choice([1, 1, 2, 60]))
        if index in bulk_at:
            size = bulk + rng.randint(-3, 40)
            if identical and rng.random() < 0.5:
                twin = model_record(moment, f"bulk{len(records)}", rng, fractions)
                records += [dict(twin) for _ in range(size)]
            else:
                records += [model_record(moment, f"bulk{len(records)}-{index}", rng, fractions) for index in range(size)]
        else:
            name = f"r{len(records)}"
            twin = model_record(moment, name, rng, fractions)
            records += [
                dict(twin) if rng.random() < 0.5 else model_record(moment, name + f"-{i}", rng, fractions)
                for i in range(rng.randint(1, 6))
            ]
    return records


def drive_pager(
    model: ModelTrail, position: int, after: datetime | None, until: datetime, page_size: int, known_cap: int | None
) -> tuple[list[lp.Second], set[datetime]]:
    """What `read_seconds` does with `plan_page` and `absorb`, over the model: the seconds yielded, and the seconds
    said to be not exact."""
    state = lp.start_pager(position, after, page_size)
    largest = min(lp.LARGEST_PAGE, known_cap or lp.LARGEST_PAGE)
    yielded: list[lp.Second] = []
    doubtful: set[datetime] = set()
    for _ in range(5000):
        ask = lp.plan_page(state)
        asked = min(ask.first, known_cap or ask.first)
        records, end = model.page(ask, asked, state)
        before = state
        state, seconds = lp.absorb(state, lp.make_entries(records), end, asked, largest)
        if state.doubtful is not None and state.doubtful != before.doubtful:
            doubtful.add(state.doubtful)
        yielded += seconds
        if state.mode == "done" or (state.mode == "carrying" and state.expected and state.expected > until):
            return yielded, doubtful
    raise AssertionError("the pager did not reach the end of the model's result")


def by_second(lines: list[tuple[datetime, str]]) -> dict[datetime, Counter]:
    seconds: dict[datetime, Counter] = {}
    for start, line in lines:
        seconds.setdefault(start, Counter())[line] += 1
    return seconds


@pytest.mark.parametrize("seed", range(400))
def test_pager_yields_every_record_of_the_model_once(seed: int) -> None:
    """
    Given a model of the Audit Trail with a random history (whole-second or millisecond changeDates, identical
    twins, seconds larger than the largest page), a silent cap or none (known or not), ties kept, shuffled, or
    ordered by the tie-breaking columns, records landing at the end and before the position between queries
    When the pager's plan_page and absorb read it from a second boundary on, as read_seconds does, up to the second
    before the newest one (as a run reads up to its settle delay)
    Then the whole seconds yielded, concatenated, are the model's records from that position on, each exactly once
    (seconds said to be not exact aside, which only shuffled ties in a second larger than a page may cause, and
    while one is read, records landing before it go unseen), or a shift is raised and records did land before the
    position
    """
    rng = random.Random(seed)
    cap = rng.choice([None, rng.randint(10, 60)])
    known_cap = cap if cap and rng.random() < 0.6 else None
    bulk = (known_cap or rng.choice([60, lp.LARGEST_PAGE])) + 1 if rng.random() < 0.8 else 30
    if bulk > lp.LARGEST_PAGE and seed % 10:
        bulk = 30  # a second larger than the largest page without a cap: a few seeds only (2,000 records each)
    ties = rng.choice(["kept", "shuffled", "columns"])
    identical = ties != "shuffled"  # identical records shuffled in a second larger than a page: see the pager's notes
    history = model_history(rng, bulk, fractions=rng.random() < 0.3, identical=identical)
    model = ModelTrail(rng, history, cap, ties, late=rng.random() < 0.5)
    starts = sorted({datetime.fromisoformat(r["changeDate"][:19]).replace(tzinfo=UTC) for r in model.records})
    after = rng.choice([None, *starts[:-1]])
    position = 0 if after is None else sum(1 for r in model.records if r["changeDate"][:19] <= format_naive(after))
    until = starts[-2] if len(starts) > 1 else starts[-1]  # what a run may consume: not the newest second, still growing
    try:
        yielded, doubtful = drive_pager(model, position, after, until, rng.randint(10, 40), known_cap)
    except lp.AuditTrailShiftedError:
        assert model.landed_before
        return
    got = [(second.start, entry.line) for second in yielded for entry in second.entries]
    read_to = max([until, *(second.start for second in yielded)])
    expected = [
        (e.second, e.line)
        for e in lp.make_entries(model.order(False))
        if (after is None or e.second > after) and e.second <= read_to
    ]
    assert [second.start for second in yielded] == sorted({second.start for second in yielded})  # each second once
    got_seconds, expected_seconds = by_second(got), by_second(expected)
    assert doubtful <= set(expected_seconds)
    if ties != "shuffled":
        assert not doubtful
    wrong = {
        start for start in expected_seconds.keys() | got_seconds.keys() if got_seconds.get(start) != expected_seconds.get(start)
    }
    allowed = set(doubtful)
    if doubtful and model.landed_before:  # read by position, a second that is not exact cannot show a shift either
        allowed |= {start for start in wrong if start <= max(doubtful)}
    assert wrong <= allowed, f"seconds read wrong: {sorted(wrong)[:3]} (of {len(wrong)}); model: cap={cap} ties={ties}"


# ---------------------------------------------------------------- what the documentation leaves open


def scheduled_history(rng: random.Random, start: datetime, minutes: int) -> list[tuple[datetime, dict[str, Any]]]:
    """(when it becomes visible, record) for a busy account: bursts of identical and different records, some
    visible late (by up to 100 s, within the settle delay), a few very late (5 to 20 minutes)."""
    events = []
    for minute in range(minutes):
        now = start + timedelta(minutes=minute)
        for _ in range(rng.choice([0, 1, 3, 8])):
            moment = now + timedelta(seconds=rng.randint(0, 59))
            name = "twin" if rng.random() < 0.3 else f"m{minute}-{len(events)}"
            delay = rng.choice([0, 0, 0, 5, 40, 100]) if rng.random() > 0.02 else rng.randint(300, 1200)
            for _ in range(rng.choice([1, 1, 1, 4, 30])):
                events.append((moment + timedelta(seconds=delay), record(moment.strftime("%Y-%m-%d %H:%M:%S"), name=name)))
    return events


CONDITIONS = {
    "documented": {},
    "silent cap": {"cap": 12},  # at least the smallest page, so it can be learned (below it: its own test)
    "cap error": {"cap": 12, "cap_error": True},
    "shuffled ties": {"shuffle_ties": True},
    "US/Eastern fromDate": {"zone": "US/Eastern"},
    # seconds larger than a capped page, ties shuffled: read exactly in the order of the tie-breaking columns
    "silent cap, shuffled ties, columns honoured": {"cap": 12, "shuffle_ties": True, "tie_columns": "honoured"},
}


@pytest.mark.slow  # longer than the quick loop allows
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("condition", list(CONDITIONS))
def test_exactly_once_whatever_the_server_does(
    platform: Platform, api: AuditBackend, requests_mock: Any, condition: str, seed: int
) -> None:
    """
    Given a busy account over a day boundary, one run a minute, with records that become visible late (within the
    settle delay, and a few far beyond it), changes landing while runs read (between queries, right after a query
    that reached the end, now and then one late in the watched days), and a server that caps pages, refuses large
    pages, shuffles ties or reads fromDate as a US/Eastern day
    When fetch-events runs every minute and then drains
    Then no record is lost; only the records visible later than the settle delay may come twice; a steady run is
    one audit call; the learned page size is the server's cap, or none; the last run stays under 4 KB
    """
    rng = random.Random(seed)
    for name, value in CONDITIONS[condition].items():
        setattr(api, name, random.Random(seed) if name == "shuffle_ties" else value)
    api.live_edge = random.Random(seed + 100)
    start = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    pending = sorted(scheduled_history(rng, start, 60), key=lambda item: item[0])
    very_late = sum(1 for visible, rec in pending if (visible - lp.make_entries([rec])[0].when).total_seconds() > 120)
    with freeze_time(start) as clock:
        for minute in range(1, 75):
            now = start + timedelta(minutes=minute)
            clock.move_to(now)
            api.records += [rec for visible, rec in pending if visible <= now]
            pending = [(visible, rec) for visible, rec in pending if visible > now]
            run_fetch(platform, first_fetch="2026-11-20T23:00:00Z", page_size="20", max_fetch="500")
            assert len(json.dumps(platform.last_run)) <= 4096
        before = len(requests_mock.request_history)
        clock.move_to(start + timedelta(minutes=76))
        run_fetch(platform, first_fetch="2026-11-20T23:00:00Z", page_size="20", max_fetch="500")
        assert [r.url for r in requests_mock.request_history[before:]] == [AUDIT_URL]
        learned = platform.context.get("page_limits", {}).get("value", {}).get("cap")
        assert learned == api.cap  # the silent cap, the largest first accepted, or none where the server has none
        api.live_edge = None  # what landed during the last runs settles, and is drained
        clock.move_to(start + timedelta(minutes=80))
        run_fetch(platform, first_fetch="2026-11-20T23:00:00Z", page_size="20", max_fetch="500")
    delivered = [(e["changeDate"], e["objectName"]) for e in platform.events]
    expected = [(r["changeDate"], r["objectName"]) for r in api.records if r["changeDate"] >= "2026-11-20 23:00:00"]
    lost = Counter(expected) - Counter(delivered)
    doubled = Counter(delivered) - Counter(expected)
    landed_late = sum(1 for at, rec in api.landed if (at - lp.make_entries([rec])[0].when).total_seconds() > 120)
    assert len(api.landed) > 20
    assert not lost
    assert sum(doubled.values()) <= very_late + landed_late


@pytest.mark.slow  # longer than the quick loop allows
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("condition", ["documented", "silent cap", "shuffled ties"])
def test_late_changes_landing_while_runs_read_are_delivered_once(
    platform: Platform, api: AuditBackend, condition: str, seed: int
) -> None:
    """
    Given a busy account, one run a minute, where changes land while runs read, now and then one stamped hours in
    the past (within the watched days) and seen from that moment on, so that a reconcile re-reads a day that keeps
    changing before where it got to
    When fetch-events runs every minute and then drains
    Then no run fails, nothing is lost, and only the late changes may come twice
    """
    rng = random.Random(seed)
    for name, value in CONDITIONS[condition].items():
        setattr(api, name, random.Random(seed) if name == "shuffle_ties" else value)
    api.live_edge, api.live_edge_late = random.Random(seed + 200), 0.1
    start = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    pending = sorted(scheduled_history(rng, start, 60), key=lambda item: item[0])
    pending = [(visible, rec) for visible, rec in pending if (visible - lp.make_entries([rec])[0].when).total_seconds() <= 120]
    failures = []
    with freeze_time(start) as clock:
        for minute in range(1, 75):
            clock.move_to(start + timedelta(minutes=minute))
            api.records += [rec for visible, rec in pending if visible <= start + timedelta(minutes=minute)]
            pending = [(visible, rec) for visible, rec in pending if visible > start + timedelta(minutes=minute)]
            try:
                run_fetch(platform, first_fetch="2026-11-20T23:00:00Z", page_size="20", max_fetch="500")
            except lp.LivePersonError as error:
                failures.append(f"minute {minute}: {type(error).__name__}: {error}")
        api.live_edge = None
        for minute in range(80, 90):
            clock.move_to(start + timedelta(minutes=minute))
            run_fetch(platform, first_fetch="2026-11-20T23:00:00Z", page_size="20", max_fetch="500")
    delivered = [(e["changeDate"], e["objectName"]) for e in platform.events]
    expected = [(r["changeDate"], r["objectName"]) for r in api.records if r["changeDate"] >= "2026-11-20 23:00:00"]
    late = sum(1 for at, rec in api.landed if (at - lp.make_entries([rec])[0].when).total_seconds() > 120)
    assert api.landed
    assert failures == []
    assert not Counter(expected) - Counter(delivered)
    doubled = Counter(delivered) - Counter(expected)
    assert sum(doubled.values()) <= late, sorted(doubled.items())[:3] + sorted(doubled.items())[-3:]


@freeze_time(NOW)
@pytest.mark.parametrize("live_edge", [False, True])
def test_silent_page_cap_is_learned_once_and_said(platform: Platform, api: AuditBackend, live_edge: bool) -> None:
    """
    Given a server that returns at most 30 records a page, whatever is asked, and a burst larger than that; and
    (live edge) changes landing now, before queries and right after every query that reached the end
    When fetch-events asks for 500 and drains
    Then the cap is learned from a probe (said once in the log), later pages ask for 30, the burst is read twice
    from its start (the reads agree), and all records arrive once (those that landed now wait for the settle delay)
    """
    api.cap = 30
    api.records = [record(f"2026-11-20 05:{minute:02d}:00", name=f"m{minute}") for minute in range(50)]
    api.records += [record("2026-11-20 06:00:00", name=f"burst{index}") for index in range(45)]
    if live_edge:
        api.live_edge, api.live_edge_chance, api.live_edge_at_end = random.Random(5), 0.3, 1.0
    run_fetch(platform)
    assert len(api.landed) > 0 if live_edge else not api.landed
    settled = [r for r in api.records if not r["objectName"].startswith("landed-")]
    assert sorted(e["objectName"] for e in platform.events) == sorted(r["objectName"] for r in settled)
    assert sum("asking for at most 30 records a page" in line for line in platform.logs) == 1
    assert "first: 30," in api.queries[-1]
    burst_starts = [query for query in api.queries if "first: 30, offset: 50," in query and '"objectName"' in query]
    assert len(burst_starts) >= 2  # the burst, read over pages, is read twice from its start: the reads agree
    assert platform.context["page_limits"]["value"]["cap"] == 30


@freeze_time(NOW)
@pytest.mark.parametrize("landing", ["at the end", "at the end, in the page's last second"])
def test_a_change_landing_between_a_short_page_and_its_probe_teaches_no_cap(
    platform: Platform, api: AuditBackend, requests_mock: Any, landing: str
) -> None:
    """
    Given a quiet account whose result is 12 records, and a change that lands right after the first query (at the
    end of the result, in a new second or in the second the page ended with)
    When fetch-events asks for 500, gets a short page, and probes
    Then the probe's record is not taken for a silent cap (the original query, asked again, returns more), later
    pages still ask for 500, and every record arrives once
    """
    api.records = [record(f"2026-11-24 10:{minute:02d}:00", name=f"m{minute}") for minute in range(12)]
    when = "2026-11-24 11:30:00" if landing == "at the end" else "2026-11-24 10:11:00"

    knows_schema(platform)

    def landing_after_the_first_query(request: Any, context: Any) -> dict:
        answer = api(request, context)
        if len(api.queries) == 1:
            api.records.append(record(when, name="landed"))
        return answer

    requests_mock.post(AUDIT_URL, json=landing_after_the_first_query)
    run_fetch(platform, first_fetch="2026-11-24T00:00:00Z")
    run_fetch(platform, first_fetch="2026-11-24T00:00:00Z")
    assert [line for line in platform.logs if "records a page from now on" in line] == []
    assert platform.context.get("page_limits", {}).get("value", {}).get("cap") is None
    assert all("first: 500," in query for query in api.queries)
    assert sorted(e["objectName"] for e in platform.events) == sorted(r["objectName"] for r in api.records)


def test_a_cap_is_never_learned_below_the_minimum_page(platform: Platform, api: AuditBackend) -> None:
    """
    Given a server that silently returns at most 3 records a page (below the smallest page the collector asks for)
    When fetch-events asks for 500 and drains
    Then no cap is learned (a short page is told from the end by a probe each time), and every record arrives once
    """
    with freeze_time(NOW):
        api.cap = 3
        api.records = [record(f"2026-11-24 10:{minute:02d}:00", name=f"m{minute}") for minute in range(11)]
        run_fetch(platform, first_fetch="2026-11-24T00:00:00Z")
    assert platform.context.get("page_limits", {}).get("value", {}).get("cap") is None
    assert sorted(e["objectName"] for e in platform.events) == sorted(r["objectName"] for r in api.records)


@freeze_time(NOW)
@pytest.mark.parametrize("seed", range(12))
def test_a_second_across_the_probe_is_read_whole_from_one_query(platform: Platform, api: AuditBackend, seed: int) -> None:
    """
    Given a server that returns at most 30 records a page, orders the records of one second anew on every query,
    and a second of 6 different records across the 30th position
    When fetch-events asks for 500, so that a probe tells the capped page from the end
    Then the records of that second are read whole from one query, not half from the page and half from the probe
    (which would deliver one of them twice and another never), and every record arrives once
    """
    api.cap, api.shuffle_ties = 30, random.Random(seed)
    api.records = [record(f"2026-11-20 05:{minute:02d}:00", name=f"m{minute}") for minute in range(27)]
    api.records += [record("2026-11-20 06:00:00", name=f"tie{index}") for index in range(6)]
    api.records += [record(f"2026-11-20 07:{minute:02d}:00", name=f"n{minute}") for minute in range(40)]
    run_fetch(platform)
    assert sorted(e["objectName"] for e in platform.events) == sorted(r["objectName"] for r in api.records)


@freeze_time(NOW)
def test_refused_page_size_is_learned_and_test_module_asks_with_it(platform: Platform, api: AuditBackend) -> None:
    """
    Given a server that answers a GraphQL error to any first above 200
    When test-module runs, then fetch-events
    Then test-module still answers ok, having found 250 refused and 125 accepted by halving, then 200 by bisection
    between them, without reading the error; and fetch-events asks for 200
    """
    api.cap, api.cap_error = 200, True
    api.records = [record(f"2026-11-23 05:{minute:02d}:00", name=f"m{minute}") for minute in range(50)]
    assert lp.test_module(make_client(), 500) == "ok"
    asked = [re.findall(r"first: (\d+)", query) for query in page_queries(api)]
    # refused, refused again, halved: refused, halved: accepted, the original refused once more, then bisection
    assert asked == [["500"], ["500"], ["250"], ["125"], ["500"], ["187"], ["218"], ["202"], ["194"], ["198"], ["200"], ["201"]]
    assert platform.context["page_limits"]["value"]["cap"] == 200
    run_fetch(platform)
    assert "first: 200," in api.queries[-1]
    assert len(platform.events) == 50


@freeze_time(NOW)
def test_one_bad_answer_is_asked_again_without_learning_a_cap(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given one GraphQL error that has nothing to do with the page size
    When fetch-events runs
    Then the page is asked again as it was, and no cap is learned
    """
    api.records = [record("2026-11-23 05:00:00")]
    requests_mock.post(AUDIT_URL, [{"json": {"errors": [{"message": "Internal error"}]}}, {"json": api}])
    run_fetch(platform)
    assert len(platform.events) == 1
    assert "page_limits" not in platform.context or platform.context["page_limits"]["value"]["cap"] is None


def test_records_younger_than_the_settle_delay_wait(platform: Platform, api: AuditBackend) -> None:
    """
    Given records 10 s, 100 s and 200 s old, and the default settle delay of 120 s
    When fetch-events runs now, and again two minutes later
    Then the first run delivers the oldest only; the second the rest, once
    """
    with freeze_time(NOW) as clock:
        api.records = [record("2026-11-24 11:56:40", name="old"), record("2026-11-24 11:58:20", name="mid")]
        api.records.append(record("2026-11-24 11:59:50", name="new"))
        run_fetch(platform, first_fetch="10 minutes")
        assert [e["objectName"] for e in platform.events] == ["old"]
        clock.tick(120)
        run_fetch(platform, first_fetch="10 minutes")
    assert [e["objectName"] for e in platform.events] == ["old", "mid", "new"]


@freeze_time(NOW)
def test_a_run_that_cannot_move_the_cursor_fails_loudly(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given records waiting after a saved last run, and a run whose time budget is spent before a whole second is read
    When fetch-events runs
    Then it ends with an error that says the collector cannot make progress, and the last run is unchanged
    """
    api.records = [record(f"2026-11-20 05:{minute:02d}:00", name=f"m{minute}") for minute in range(30)]
    platform.last_run = saved = lp.Cursor.start(datetime(2026, 11, 19, tzinfo=UTC)).to_json()
    clock = FakeClock()
    settings = lp.Settings.from_params(base_params(page_size="10"))
    client = lp.AuditTrailClient(settings, clock=clock, sleep=clock.sleep, time_budget=0)
    with pytest.raises(lp.StalledError, match="cannot make progress"):
        lp.fetch_events_command(client, settings)
    assert platform.last_run == saved
    assert platform.events == []


@freeze_time(NOW)
@pytest.mark.parametrize("where", [0, 4, 9, 10, 29])
def test_a_record_whose_change_date_cannot_be_read_is_delivered_once_in_its_place(
    platform: Platform, api: AuditBackend, where: int
) -> None:
    """
    Given 30 records, one of which (first, inside, last of a page, first of the next, last of all) has a changeDate
    that cannot be read, at its place in the ascending result
    When fetch-events runs with pages of 10, and again
    Then every record is delivered once, the unreadable one with the time of its neighbour before it in the result (or
    after it, where none is before it on its page) and changeDateUnreadable set, and the log names the count
    """
    api.records = [record(f"2026-11-20 05:{minute:02d}:00", name=f"m{minute}") for minute in range(30)]
    api.records[where] = dict(api.records[where], changeDate="garbled")
    api.ordered = lambda: list(api.records)  # type: ignore[method-assign]  # its place: the result's order
    run_fetch(platform, page_size="10")
    run_fetch(platform, page_size="10")
    names = Counter(event["objectName"] for event in platform.events)
    assert len(names) == 30 and set(names.values()) == {1}, names
    bad = next(event for event in platform.events if event["objectName"] == f"m{where}")
    neighbour = where - 1 if where else 1
    assert bad["_time"] == f"2026-11-20T05:{neighbour:02d}:00Z"
    assert bad["changeDate"] == "garbled" and bad["changeDateUnreadable"] is True
    assert all("changeDateUnreadable" not in event for event in platform.events if event is not bad)
    assert any("1 audit record(s) with a changeDate that cannot be read" in line for line in platform.logs)


def test_whole_seconds_groups_ascending_records_and_refuses_any_other_order() -> None:
    """
    Given records in ascending time, three in one second (one with a fraction), and then a page out of order
    When they are grouped into seconds
    Then each second holds its records in the order read, and a record earlier than the one before is an error
    """
    entries = [
        entry("2026-11-23 10:00:00", 1),
        entry("2026-11-23 10:00:01", 2),
        entry_at(datetime(2026, 11, 23, 10, 0, 1, 500000, tzinfo=UTC), 3),
        entry("2026-11-23 10:00:01", 4),
        entry("2026-11-23 10:00:07", 5),
    ]
    seconds = lp.whole_seconds(entries)
    assert [(whole.text, [e.fp for e in whole.entries]) for whole in seconds] == [
        ("2026-11-23T10:00:00Z", [1]),
        ("2026-11-23T10:00:01Z", [2, 3, 4]),
        ("2026-11-23T10:00:07Z", [5]),
    ]
    with pytest.raises(lp.ResponseFormatError, match="out of time order"):
        lp.whole_seconds([entries[4], entries[0]])


# ---------------------------------------------------------------- the first hour (issue 20)


MANIFEST = yaml.safe_load((Path(__file__).parent / "LivePersonAuditTrail.yml").read_text())


def manifest_parameter(name: str) -> dict[str, Any]:
    return next(parameter for parameter in MANIFEST["configuration"] if parameter["name"] == name)


@freeze_time(NOW)
def test_the_first_fetch_default_is_three_days_wherever_it_is_set(platform: Platform) -> None:
    """
    Given the manifest's default first fetch time, the module's, and an instance that leaves the setting empty
    When they are read
    Then all say 3 days: a new instance collects three days of history at once
    """
    assert manifest_parameter("first_fetch")["defaultvalue"] == lp.DEFAULT_FIRST_FETCH == "3 days"
    settings = lp.Settings.from_params(base_params(first_fetch=""))
    assert settings.first_fetch == datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert settings.first_fetch_setting == "3 days"


def test_a_changed_first_fetch_time_is_told_in_test_module_and_the_next_fetch(platform: Platform, api: AuditBackend) -> None:
    """
    Given an instance that started collecting with first fetch "2 days", whose setting is then changed to "5 days"
    When test-module runs, then the next fetch-events
    Then test-module still answers ok, and the instance's health and the fetch's log say plainly that the change does
    not apply to a started instance, with both settings, the saved start and how to reset the last run; the start
    does not move. With the setting unchanged, nothing is said
    """
    api.records = [record("2026-11-23 10:00:00")]
    with freeze_time(NOW):
        platform.command, platform.params = "fetch-events", base_params(first_fetch="2 days")
        lp.main()
        since = platform.last_run["since"]
        assert since == "2026-11-22T12:00:00Z"
        platform.command = "test-module"
        lp.main()
        assert platform.results == ["ok"]
        assert not [entry for entry in platform.health if isinstance(entry, str)]
        platform.results, platform.params = [], base_params(first_fetch="5 days")
        lp.main()
    assert platform.results == ["ok"]
    notices = [entry for entry in platform.health if isinstance(entry, str)]
    assert len(notices) == 1
    for words in ('"First fetch time" is now "5 days"', f"started collecting at {since}", '(with "2 days")'):
        assert words in notices[0]
    assert 'Reset the "last run" timestamp' in notices[0]
    platform.logs = []
    with freeze_time("2026-11-24T12:05:00Z"):
        platform.command = "fetch-events"
        lp.main()
    assert notices[0] in platform.logs
    assert platform.last_run["since"] == since


def test_get_events_takes_the_arguments_the_manifest_declares() -> None:
    """
    Given the manifest's liveperson-get-events command
    When its arguments are compared with those the module takes
    Then they are the same, in the same order: the module's list is the manifest's
    """
    command = next(command for command in MANIFEST["script"]["commands"] if command["name"] == "liveperson-get-events")
    assert tuple(argument["name"] for argument in command["arguments"]) == lp.GET_EVENTS_ARGUMENTS


def test_an_unknown_argument_is_refused_with_the_known_ones(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given liveperson-get-events with an argument it does not have (colour=red)
    When it runs
    Then it fails naming that argument and every argument it does have, before any call to LivePerson
    """
    platform.command, platform.args = "liveperson-get-events", {"colour": "red", "limit": "5"}
    with pytest.raises(SystemExit):
        lp.main()
    message = platform.results[-1]["Contents"]
    assert 'liveperson-get-events has no argument "colour": use should_push_events, limit, start_time, end_time.' in message
    assert requests_mock.call_count == 0


@pytest.fixture
def dateparser_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the platform library hands to dateparser (which still answers)."""
    import dateparser  # noqa: PLC0415

    calls: list[str] = []
    parse = dateparser.parse

    def spy(text: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(text)
        return parse(text, *args, **kwargs)

    monkeypatch.setattr(dateparser, "parse", spy)
    return calls


@pytest.mark.parametrize("text", ["garbage", "colour red", "!!!", "soon-ish"])
def test_a_time_no_language_can_read_is_refused_without_asking_dateparser(
    platform: Platform, api: AuditBackend, dateparser_calls: list[str], text: str
) -> None:
    """
    Given start_time set to text that is no time in any language dateparser knows
    When liveperson-get-events runs
    Then it is refused, naming start_time, without dateparser being asked (which tries its 200 languages for seconds)
    """
    platform.command, platform.args = "liveperson-get-events", {"start_time": text}
    with pytest.raises(SystemExit):
        lp.main()
    assert f'"start_time" is not a time: "{text}"' in platform.results[-1]["Contents"]
    assert dateparser_calls == []


@freeze_time(NOW)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yesterday", datetime(2026, 11, 23, 12, tzinfo=UTC)),
        ("gestern", datetime(2026, 11, 23, 12, tzinfo=UTC)),
        ("12 marzo 2026", datetime(2026, 3, 12, tzinfo=UTC)),
    ],
)
def test_times_in_words_still_go_to_dateparser(dateparser_calls: list[str], text: str, expected: datetime) -> None:
    """
    Given a time in words, in English or another language dateparser reads
    When it is read as a time
    Then dateparser reads it, as the platform's arg_to_datetime does
    """
    assert lp.parse_time(text, "start_time", lp.utc_now()) == expected
    assert dateparser_calls == [text]


def dateparser_corpus() -> list[str]:
    """Texts made of dateparser's own words, language by language (relative words, month and day names, with and
    without a number), and near-misses."""
    from dateparser.languages.loader import default_loader  # noqa: PLC0415

    texts = ["garbage EST", "colour", "red", "tomorrowish", "mayx", "in 2 hours", "yesterday UTC", "a week ago", "ואתמול"]
    for locale in default_loader.get_locales():
        info = locale.info
        texts += [words[0] for words in list(info.get("relative-type", {}).values())[:3] if words]
        texts += [f"{info[key][0]} 2024" for key in ("may",) if info.get(key)]
        texts += [f"{info[key][0]} {' '.join(info.get('ago', [])[:1])}" for key in ("week",) if info.get(key)]
    return texts


def test_the_fast_refusal_never_refuses_what_dateparser_reads() -> None:
    """
    Given texts built from every dateparser language's own words (thousands), and near-misses
    When the fast check says a text cannot be a time
    Then dateparser itself reads no time in it either (the check only spares the wait, it decides nothing else);
    and the check refuses some of them, so it is not idle
    """
    import dateparser  # noqa: PLC0415

    refused = [text for text in dateparser_corpus() if not lp.dateparser_could_read(text)]
    assert "garbage EST" in refused
    assert [text for text in refused if dateparser.parse(text, settings={"TIMEZONE": "UTC"}) is not None] == []


# ---------------------------------------------------------------- the Audit Trail's schema

TYPING_COMBINATIONS = [
    pytest.param("strings", "strings", "strings", id="lists of strings"),
    pytest.param("enums", "enums", "enums", id="lists of enums"),
    pytest.param("string", "string", "string", id="plain strings"),
    pytest.param("enum", "enum", "enum", id="plain enums"),
    pytest.param("enums", "string", "strings", id="mixed: enum list, string, string list"),
    pytest.param("string", "enums", "enum", id="mixed: string, enum list, enum"),
]


def typing_of(order_by: str, order_direction: str, component_types: str, **more: Any) -> dict[str, Any]:
    return {"order_by": order_by, "order_direction": order_direction, "component_types": component_types, **more}


@freeze_time(NOW)
@pytest.mark.parametrize("filtered", [False, True], ids=["no component filter", "component filter"])
@pytest.mark.parametrize(("order_by", "order_direction", "component_types"), TYPING_COMBINATIONS)
def test_the_schema_is_learned_one_unknown_per_query_in_a_fixed_order(
    platform: Platform, api: AuditBackend, order_by: str, order_direction: str, component_types: str, filtered: bool
) -> None:
    """
    Given an Audit Trail whose orderBy, orderDirection and componentTypes are each typed in one way (graphql-core
    refuses any other), introspection refused, and an instance that filters on one component type or not
    When fetch-events runs for the first time
    Then it asks the minimal query, introspection, then each argument alone in the fixed order of typings up to the
    one accepted (componentTypes only when it filters on it), fromDate, actionType; it says the typing found in one
    log line, keeps it in the integration context, and reads every record with queries graphql-core accepts
    """
    api.typing = typing_of(order_by, order_direction, component_types)
    api.records = [record(f"2026-11-23 10:00:0{index}", objectType="Users") for index in range(5)]
    params = {"component_types": "ACUserObject"} if filtered else {}
    assert run_fetch(platform, **params) == 5
    order = list(lp.TYPINGS)
    probes = {"orderBy": '"changeTimestamp"', "orderDirection": '"ASC"', "componentTypes": '"ACUserObject"'}
    expected = [lp.MINIMAL_QUERY, lp.INTROSPECTION_QUERY]
    for argument, typing in [("orderBy", order_by), ("orderDirection", order_direction), ("componentTypes", component_types)]:
        if argument == "componentTypes" and not filtered:
            continue
        for tried in order[: order.index(typing) + 1]:
            value = probes[argument].strip('"') if tried.startswith("enum") else probes[argument]
            expected.append(
                f"{{auditData(first: 1, {argument}: {f'[{value}]' if tried.endswith('s') else value}) {{changeDate}}}}"
            )
    expected += ['{auditData(first: 1, fromDate: "2026-11-24") {changeDate}}', "{auditData(first: 1) {changeDate actionType}}"]
    assert api.queries[: len(expected)] == expected
    typing = tuple(sorted(api.typing.items()))
    assert page_queries(api) and all(judged(re.sub(r"\d", "1", query), typing, False)[0] == () for query in page_queries(api))
    described = ", ".join(
        [f"orderBy {lp.TYPINGS[order_by]}", f"orderDirection {lp.TYPINGS[order_direction]}"]
        + ([f"componentTypes {lp.TYPINGS[component_types]}"] if filtered else [])
    )
    learned = [line for line in platform.logs if line.startswith("The Audit Trail's schema")]
    assert learned == [f"The Audit Trail's schema (by asking): {described}, fromDate a string, actionType present."]
    assert platform.context["audit_schema"]["value"]["orderBy"] == order_by


@freeze_time(NOW)
@pytest.mark.parametrize(("order_by", "order_direction", "component_types"), TYPING_COMBINATIONS)
def test_introspection_gives_the_same_schema_in_one_query(
    platform: Platform, api: AuditBackend, order_by: str, order_direction: str, component_types: str
) -> None:
    """
    Given an Audit Trail that answers introspection, typed in one way, without actionType
    When test-module runs on an instance that filters on one component type
    Then it learns the typings and the missing field from the minimal query and one introspection query, answers ok,
    and the instance's health and log name the rules that cannot fire
    """
    api.typing = typing_of(order_by, order_direction, component_types, action_type=False)
    api.introspection = True
    platform.command, platform.params = "test-module", base_params(component_types="ACUserObject")
    lp.main()
    assert platform.results == ["ok"]
    assert api.queries[:2] == [lp.MINIMAL_QUERY, lp.INTROSPECTION_QUERY] and len(api.queries) == 3
    saved = platform.context["audit_schema"]["value"]
    assert (saved["orderBy"], saved["orderDirection"], saved["componentTypes"]) == (order_by, order_direction, component_types)
    assert saved["absentFields"] == ["actionType"]
    assert any(line.startswith("The Audit Trail's schema (from introspection)") for line in platform.logs)
    warnings = [entry for entry in platform.health if isinstance(entry, str)]
    assert len(warnings) == 1 and all(rule in warnings[0] for rule in lp.ACTION_TYPE_RULES)


@freeze_time(NOW)
def test_a_steady_run_is_one_call_and_a_refused_learned_query_learns_again(platform: Platform, api: AuditBackend) -> None:
    """
    Given a first run that learned lists of strings
    When the next run finds nothing new, then the server's orderBy becomes a list of enums and a run comes
    Then the quiet run is one audit call; the later run's page is refused, the schema learned again once (said in
    the log), and the page read with the new typing
    """
    api.records = [record("2026-11-20 08:30:00"), record("2026-11-20 08:30:01"), record("2026-11-20 08:30:02")]
    run_fetch(platform)
    before = len(api.queries)
    run_fetch(platform)
    assert len(api.queries) == before + 1
    api.typing = {"order_by": "enums"}
    api.records.append(record("2026-11-23 11:00:00", name="later"))
    assert run_fetch(platform) == 1
    assert sum("learning the schema again" in line for line in platform.logs) == 1
    assert platform.context["audit_schema"]["value"]["orderBy"] == "enums"
    assert "orderBy: [changeTimestamp]" in page_queries(api)[-1]


@freeze_time(NOW)
def test_a_refused_page_on_a_learned_schema_is_checked_with_one_query_not_learned_again(
    platform: Platform, api: AuditBackend
) -> None:
    """
    Given a schema learned by an earlier run, and a server that now refuses any first above 200
    When the next run asks for 500
    Then one small query with every learned typing and field confirms the schema (it is not learned again), and
    the refused size is halved and bisected as before
    """
    api.records = [record("2026-11-20 08:30:00"), record("2026-11-20 08:30:01"), record("2026-11-20 08:30:02")]
    run_fetch(platform)
    before = len(api.queries)
    api.cap, api.cap_error = 200, True
    api.records.append(record("2026-11-23 11:00:00", name="later"))
    assert run_fetch(platform) == 1
    later = api.queries[before:]
    assert later[1] == (
        '{auditData(fromDate: "2026-11-24", first: 1, orderBy: ["changeTimestamp"], orderDirection: ["ASC"]) '
        "{changeDate actionType}}"
    )
    assert lp.MINIMAL_QUERY not in later and not any("learning the schema again" in line for line in platform.logs)
    assert sum(query.startswith('{auditData(fromDate: "2026-11-24", first: 1,') for query in later) == 1  # once a run
    asked = [re.findall(r"first: (\d+)", query) for query in page_queries(api)[-12:]]
    assert asked == [["500"], ["500"], ["250"], ["125"], ["500"], ["187"], ["218"], ["202"], ["194"], ["198"], ["200"], ["201"]]
    assert platform.context["page_limits"]["value"]["cap"] == 200


def test_a_schema_no_query_fits_is_a_clear_error(platform: Platform, api: AuditBackend, requests_mock: Any) -> None:
    """
    Given an Audit Trail that refuses every query, or only every form of orderBy
    When a query runs
    Then the error says which query or argument was refused in every form, with the last answer for a person
    """
    requests_mock.post(AUDIT_URL, json={"errors": [{"message": "Validation error (WrongType)"}]})
    with pytest.raises(lp.SchemaError, match=r"smallest query .*first: 1.* twice.*WrongType"):
        make_client().query_audit(lp.AuditQuery(first=10, offset=0))

    def no_order_by(request: Any, context: Any) -> dict:
        if "orderBy" in request.json()["query"]:
            return {"errors": [{"message": "Validation error (WrongType@[auditData])"}]}
        return api(request, context)

    requests_mock.post(AUDIT_URL, json=no_order_by)
    with pytest.raises(
        lp.SchemaError, match="refused orderBy written as a list of strings, as a list of enums, as a string, as an enum"
    ):
        make_client().query_audit(lp.AuditQuery(first=10, offset=0))


@freeze_time(NOW)
def test_several_component_types_on_a_single_value_schema_name_the_setting(platform: Platform, api: AuditBackend) -> None:
    """
    Given an Audit Trail whose componentTypes takes one value, and an instance filtering on two types
    When test-module runs
    Then it fails at the Audit Trail stage naming "Component types" and the fix, without sending anything
    """
    api.typing = {"component_types": "enum"}
    platform.command, platform.params = "test-module", base_params(component_types="ACUserObject,ACSkillObject")
    lp.main()
    assert platform.results[0].startswith('Audit Trail query failed: "Component types": ')
    assert "Set one, or leave it empty" in platform.results[0]


@pytest.mark.parametrize("order_by", list(lp.TYPINGS))
@pytest.mark.parametrize("order_direction", list(lp.TYPINGS))
def test_any_number_of_order_columns_under_list_typings_and_one_under_single_ones(order_by: str, order_direction: str) -> None:
    """
    Given each of the 16 typings of orderBy and orderDirection
    When a query with three order columns (the pager's tie-breakers) and one with a single column are written
    Then graphql-core accepts them under list typings; single-value typings allow one column (order_columns_allowed
    says so) and refuse to write three rather than drop two
    """
    schema = lp.AuditSchema(order_by=order_by, order_direction=order_direction)
    typing = tuple(sorted({"order_by": order_by, "order_direction": order_direction}.items()))
    one = lp.AuditQuery(first=5, offset=0)
    three = replace(one, order_by=("changeTimestamp", "originatorUserId", "objectName"), order_direction=("ASC",) * 3)
    assert judged(lp.build_audit_query(one, schema)["query"], typing, False)[0] == ()
    if schema.order_columns_allowed is None:
        assert judged(lp.build_audit_query(three, schema)["query"], typing, False)[0] == ()
    else:
        assert schema.order_columns_allowed == 1 and {order_by, order_direction} & {"string", "enum"}
        with pytest.raises(ValueError, match="takes one value"):
            lp.build_audit_query(three, schema)


def test_a_saved_schema_that_is_not_one_is_learned_again() -> None:
    """
    Given what an integration context may hold under the schema's key
    When it is read
    Then only a schema written by to_json is taken; anything else is None (learned again)
    """
    schema = lp.AuditSchema("enums", "string", None, ("actionType",))
    assert lp.AuditSchema.from_json(json.loads(json.dumps(schema.to_json()))) == schema
    for bad in (
        None,
        [],
        {"orderBy": "list"},
        {**schema.to_json(), "absentFields": ["accountId"]},
        {**schema.to_json(), "orderDirection": None},
    ):
        assert lp.AuditSchema.from_json(bad) is None


@freeze_time(NOW)
def test_each_fetch_run_keeps_the_missing_field_in_the_instance_health(platform: Platform, api: AuditBackend) -> None:
    """
    Given an Audit Trail without actionType, learned by an earlier run
    When a later run fetches
    Then its health has the events pulled and the message naming the rules that cannot fire, and nothing is lost
    """
    api.typing = {"action_type": False}
    api.records = [record("2026-11-23 10:00:00")]
    run_fetch(platform)
    platform.health.clear()
    api.records.append(record("2026-11-23 11:00:00", name="later"))
    assert run_fetch(platform) == 1
    assert platform.health[0] == {"eventsPulled": 1}
    assert platform.health[1] == lp.rules_that_cannot_fire(lp.AuditSchema(absent_fields=("actionType",)))
    assert "actionType" not in platform.events[-1]
