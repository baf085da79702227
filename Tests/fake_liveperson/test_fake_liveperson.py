"""The fake LivePerson answers as the API documentation says, over real HTTPS."""

from __future__ import annotations

import email.utils
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from oauthlib import oauth1

from Tests.fake_liveperson import FakeLivePerson, data
from Tests.fake_liveperson.server import RequestRecord

QUERY = "{auditData(%s) {objectType objectName changeDate originatorIsLpa}}"


@pytest.fixture
def fake() -> Any:
    with FakeLivePerson(seed=1) as server:
        rng = data.make_rng(1)
        server.add_records(
            [
                {**data.make_record(datetime(2024, 3, 9, 4, 30, tzinfo=UTC), rng), "objectName": "before-eastern-midnight"},
                {**data.make_record(datetime(2024, 3, 9, 5, 30, tzinfo=UTC), rng), "objectName": "after-eastern-midnight"},
                {**data.make_record(datetime(2024, 3, 10, 12, 0, tzinfo=UTC), rng, lpa=True), "objectName": "lpa"},
                {**data.make_record(datetime(2024, 3, 10, 13, 0, tzinfo=UTC), rng, automatic=True), "objectName": "auto"},
            ]
        )
        yield server


def token(fake: FakeLivePerson, version: str = "v2", **form: str) -> requests.Response:
    path = (
        f"/sentinel/api/v2/account/{fake.account_id}/app/token"
        if version == "v2"
        else (f"/sentinel/api/account/{fake.account_id}/app/token?v=1.0")
    )
    body = {"client_id": fake.client_id, "client_secret": fake.client_secret, "grant_type": "client_credentials", **form}
    return requests.post(fake.url + path, data=body, verify=fake.ca_bundle, timeout=10)


def audit(fake: FakeLivePerson, arguments: str, bearer: str | None = None) -> requests.Response:
    bearer = bearer or token(fake).json()["access_token"]
    return requests.post(
        f"{fake.url}/api/account/{fake.account_id}/configuration/metadata/audit",
        json={"query": QUERY % arguments},
        headers={"Authorization": f"Bearer {bearer}"},
        verify=fake.ca_bundle,
        timeout=10,
    )


def names(response: requests.Response) -> list[str]:
    return [row["objectName"] for row in response.json()["data"]["auditData"]]


def test_domain_api_one_service_all_services_and_bad_accounts(fake: FakeLivePerson) -> None:
    """
    Given the Domain API
    When one service, all services, a malformed account and an unknown account are asked for
    Then it answers the bare host, the list, 400 and 401
    """
    base = f"{fake.url}/api/account/{fake.account_id}/service"
    one = requests.get(f"{base}/accountConfigReadOnly/baseURI.json?version=1.0", verify=fake.ca_bundle, timeout=10).json()
    assert one == {"service": "accountConfigReadOnly", "account": fake.account_id, "baseURI": fake.host}
    every = requests.get(f"{base}/baseURI.json?version=1.0", verify=fake.ca_bundle, timeout=10).json()
    assert {entry["service"] for entry in every["baseURIs"]} >= {"accountConfigReadOnly", "sentinel"}
    bad = requests.get(f"{fake.url}/api/account/12-34/service/sentinel/baseURI.json", verify=fake.ca_bundle, timeout=10)
    unknown = requests.get(f"{fake.url}/api/account/999/service/sentinel/baseURI.json", verify=fake.ca_bundle, timeout=10)
    assert (bad.status_code, unknown.status_code) == (400, 401)


@pytest.mark.parametrize(("style", "expected"), [("absent", None), ("number", 3600), ("string", "3600")])
def test_token_endpoints_and_expires_in_styles(style: str, expected: Any) -> None:
    """
    Given a fake configured to leave out expires_in, or give it as a number or a string
    When tokens are asked for at v2 and v1, and with a wrong secret
    Then both answer a JWT with that expires_in, and a wrong secret gets 401
    """
    with FakeLivePerson(expires_in=style) as fake:
        for version in ("v2", "v1"):
            answer = token(fake, version).json()
            assert answer["token_type"] == "Bearer"
            assert answer["access_token"].count(".") == 2
            assert answer.get("expires_in") == expected
        assert token(fake, client_secret="wrong").status_code == 401
        assert token(fake, grant_type="password").status_code == 400


def test_tokens_expire_on_the_fake_clock_and_can_be_revoked() -> None:
    """
    Given a fake whose clock the test moves
    When a token outlives its time, or tokens are revoked
    Then the audit API answers 401
    """
    now = {"t": 1_700_000_000.0}
    with FakeLivePerson(token_ttl=60, clock=lambda: now["t"]) as fake:
        bearer = token(fake).json()["access_token"]
        assert audit(fake, "first: 1", bearer).status_code == 200
        now["t"] += 61
        assert audit(fake, "first: 1", bearer).status_code == 401
        fresh = token(fake).json()["access_token"]
        fake.revoke_tokens()
        assert audit(fake, "first: 1", fresh).status_code == 401


def test_default_order_is_descending_and_ascending_pages(fake: FakeLivePerson) -> None:
    """
    Given four records
    When they are asked for without an order, then ascending in pages of two
    Then the default is newest first (LPA and automatic updates left out by default), and pages follow first/offset
    """
    assert names(audit(fake, 'timezone: "UTC"')) == ["after-eastern-midnight", "before-eastern-midnight"]
    page = 'first: 2, offset: %d, orderBy: ["changeTimestamp"], orderDirection: ["ASC"], lpa: true, automaticUpdates: true'
    assert names(audit(fake, page % 0)) == ["before-eastern-midnight", "after-eastern-midnight"]
    response = audit(fake, page % 2)
    assert names(response) == ["lpa", "auto"]
    assert response.headers["X-Total-Count"] == "4"


def test_days_are_whole_days_in_the_requested_zone_and_dates_are_written_in_it(fake: FakeLivePerson) -> None:
    """
    Given records at 04:30 and 05:30 UTC on 9 March 2024 (23:30 and 00:30 in US/Eastern)
    When fromDate 2024-03-09 is asked for in UTC and in US/Eastern
    Then UTC keeps both and Eastern only the later one, with changeDate written in the asked zone
    """
    utc = audit(fake, 'fromDate: "2024-03-09", toDate: "2024-03-09", timezone: "UTC", orderDirection: ["ASC"]')
    assert names(utc) == ["before-eastern-midnight", "after-eastern-midnight"]
    assert utc.json()["data"]["auditData"][0]["changeDate"] == "2024-03-09 04:30:00.0"
    eastern = audit(fake, 'fromDate: "2024-03-09", toDate: "2024-03-09", orderDirection: ["ASC"]')
    assert names(eastern) == ["after-eastern-midnight"]
    assert eastern.json()["data"]["auditData"][0]["changeDate"] == "2024-03-09 00:30:00.0"


def test_filters_users_and_component_types(fake: FakeLivePerson) -> None:
    """
    Given records by different originators and of different types
    When users and componentTypes filters are given
    Then only matching records come back
    """
    record = fake.records[0]
    by_user = audit(fake, f'users: ["{record["originatorLoginName"]}"], lpa: true, automaticUpdates: true')
    assert "before-eastern-midnight" in names(by_user)
    assert all(row["objectName"] for row in by_user.json()["data"]["auditData"])


def test_component_types_filter_takes_component_names_and_records_carry_display_names(fake: FakeLivePerson) -> None:
    """
    Given a Users record and a Predefined Content record
    When componentTypes names the users' component (ACUserObject), the display name (Users), or an unknown name
    Then the component name selects the Users record, which carries "Users"; the other two select nothing
    """
    rng = data.make_rng(5)
    when = datetime(2024, 3, 11, 9, 0, tzinfo=UTC)
    fake.add_records(
        [
            {**data.make_record(when, rng), "objectType": "Users", "objectName": "a-user"},
            {**data.make_record(when, rng), "objectType": "Predefined Content", "objectName": "a-canned-answer"},
        ]
    )
    query = 'fromDate: "2024-03-11", toDate: "2024-03-11", timezone: "UTC", componentTypes: [%s]'
    by_component = audit(fake, query % '"ACUserObject"')
    assert names(by_component) == ["a-user"]
    assert by_component.json()["data"]["auditData"][0]["objectType"] == "Users"
    assert names(audit(fake, query % '"Users"')) == []
    assert names(audit(fake, query % '"ACNoSuchObject"')) == []
    assert sorted(names(audit(fake, 'fromDate: "2024-03-11", timezone: "UTC"'))) == ["a-canned-answer", "a-user"]


def test_schema_validation_and_limits() -> None:
    """
    Given an unknown field, an unknown argument, a syntax error, and a first above the maximum
    When they are sent
    Then GraphQL errors come back (status as configured) and first is clamped or refused as configured
    """
    with FakeLivePerson(max_first=2, graphql_error_status=400) as fake:
        fake.add_records(data.burst(datetime(2024, 1, 1, tzinfo=UTC), 5, data.make_rng(2)))
        bearer = token(fake).json()["access_token"]
        url = f"{fake.url}/api/account/{fake.account_id}/configuration/metadata/audit"
        for query in ("{auditData {nope}}", "{auditData(bogus: 1) {element}}", "{auditData("):
            answer = requests.post(
                url, json={"query": query}, headers={"Authorization": f"Bearer {bearer}"}, verify=fake.ca_bundle
            )
            assert answer.status_code == 400 and answer.json()["errors"]
        assert len(names(audit(fake, "first: 50", bearer))) == 2
    with FakeLivePerson(max_first=2, over_max_first="error") as fake:
        assert audit(fake, "first: 50").json()["errors"]


def test_faults_and_the_request_log(fake: FakeLivePerson) -> None:
    """
    Given scheduled faults
    When requests arrive
    Then each fault answers once in order and the request log records what was answered
    """
    bearer = token(fake).json()["access_token"]
    fake.faults.add("audit", "status", code=429, retry_after=2)
    fake.faults.add("audit", "graphql_errors")
    fake.faults.add("audit", "no_data", body={"data": None})
    fake.faults.add("audit", "malformed_json")
    first = audit(fake, "first: 1", bearer)
    assert (first.status_code, first.headers["Retry-After"]) == (429, "2")
    assert audit(fake, "first: 1", bearer).json()["errors"]
    assert audit(fake, "first: 1", bearer).json() == {"data": None}
    with pytest.raises(ValueError):
        audit(fake, "first: 1", bearer).json()
    fake.faults.add("audit", "reset")
    with pytest.raises(requests.exceptions.ConnectionError):
        audit(fake, "first: 1", bearer)
    assert audit(fake, "first: 1", bearer).status_code == 200
    audits = [entry for entry in fake.requests if entry.endpoint == "audit"]
    assert [entry.fault for entry in audits] == ["status", "graphql_errors", "no_data", "malformed_json", "reset", None]
    assert audits[-1].audit_args == {"first": 1}
    assert fake.count("token") == 1


def test_no_private_key_on_disk_and_nothing_left_after_stop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Given a fake LivePerson started and stopped, and one whose start fails (its port is taken)
    When the temporary directory is looked at while the first serves and after both stopped
    Then only the CA certificate is on disk while it serves (no private key), and nothing is left afterwards
    """
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with FakeLivePerson() as fake:
        assert [path.relative_to(tmp_path).parts[1:] for path in tmp_path.rglob("*") if path.is_file()] == [("ca.pem",)]
        assert Path(fake.ca_bundle).parent.name.startswith("fake-liveperson-tls-")
        assert "PRIVATE KEY" not in Path(fake.ca_bundle).read_text()
        assert requests.get(f"{fake.url}/nowhere", verify=fake.ca_bundle, timeout=10).status_code == 404
        with pytest.raises(OSError):
            FakeLivePerson().start(port=int(fake.host.rsplit(":", 1)[1]))
    assert list(tmp_path.iterdir()) == []


def test_undocumented_behaviours_the_fake_can_play() -> None:
    """
    Given fakes that delay visibility, read fromDate as a US/Eastern day, count only the page, write milliseconds,
    or shuffle ties
    When the same records are asked for
    Then each answers as that behaviour says
    """
    now = {"t": datetime(2024, 3, 9, 12, 0, tzinfo=UTC).timestamp()}
    rng = data.make_rng(4)
    records = [
        {**data.make_record(datetime(2024, 3, 9, 3, 0, tzinfo=UTC), rng), "objectName": "early"},
        *[{**data.make_record(datetime(2024, 3, 9, 11, 59, 50, tzinfo=UTC), rng), "objectName": f"tie{i}"} for i in range(8)],
    ]
    day = 'fromDate: "2024-03-09", orderBy: ["changeTimestamp"], orderDirection: ["ASC"], timezone: "UTC", first: 50'
    with FakeLivePerson(seed=2, commit_delay=60, clock=lambda: now["t"]) as fake:
        fake.add_records(records)
        visible = names(audit(fake, day))
        hidden = 9 - len(visible)
        assert "early" in visible and hidden > 0  # some of the 11:59:50 records are not visible 10 s later
        assert fake.late_beyond(10) >= hidden
        now["t"] += 60
        assert len(names(audit(fake, day))) == 9
    with FakeLivePerson(seed=2, from_date_zone="US/Eastern", total_count="page", precision="millisecond") as fake:
        fake.add_records(records)
        answer = audit(fake, day)
        assert "early" not in names(answer)  # the US/Eastern day of 03-09 starts at 05:00 UTC
        assert answer.headers["X-Total-Count"] == str(len(names(answer)))
        assert all(row["changeDate"][-4] == "." and len(row["changeDate"]) == 23 for row in answer.json()["data"]["auditData"])
    with FakeLivePerson(seed=2, tie_order="shuffled") as fake:
        fake.add_records(records)
        orders = {tuple(names(audit(fake, day))) for _ in range(6)}
        assert len(orders) > 1 and all(order[0] == "early" for order in orders)
    with FakeLivePerson(seed=2, max_first=5) as fake:
        fake.add_records(records)
        assert len(names(audit(fake, day))) == 5  # a silent cap: fewer than asked, no error


# How each typing writes the same values: (typing, orderBy, orderDirection, componentTypes).
RENDERED = {
    "strings": ('["changeTimestamp", "objectType"]', '["ASC", "DESC"]', '["ACUserObject", "ACSkillObject"]'),
    "enums": ("[changeTimestamp, objectType]", "[ASC, DESC]", "[ACUserObject, ACSkillObject]"),
    "string": ('"changeTimestamp"', '"ASC"', '"ACUserObject"'),
    "enum": ("changeTimestamp", "ASC", "ACUserObject"),
}


def answer(fake: FakeLivePerson, arguments: str, selection: str = "changeDate") -> dict[str, Any]:
    return fake.audit(f"{{auditData({arguments}) {{{selection}}}}}", RequestRecord(0, "POST", "/", "audit"))[1]


@pytest.mark.parametrize("typing", list(RENDERED))
@pytest.mark.parametrize("argument", ["orderBy", "orderDirection", "componentTypes"])
def test_each_argument_takes_only_the_values_its_typing_takes(argument: str, typing: str) -> None:
    """
    Given a fake whose one argument is typed as a list of strings, a list of enums, a plain string or a plain enum
    When that argument is written in each of the four ways (the others as the schema file has them)
    Then graphql-core accepts the way of its typing, and a single value where a list is expected, and refuses the rest
    """
    index = ("orderBy", "orderDirection", "componentTypes").index(argument)
    setting = {"orderBy": "order_by", "orderDirection": "order_direction", "componentTypes": "component_types"}[argument]
    settings: dict[str, Any] = {setting: typing}
    fake = FakeLivePerson(**settings)
    accepted = {way for way, values in RENDERED.items() if "data" in answer(fake, f"first: 1, {argument}: {values[index]}")}
    single = {"strings": {"strings", "string"}, "enums": {"enums", "enum"}, "string": {"string"}, "enum": {"enum"}}
    assert accepted == single[typing]


def test_mixed_typings_date_scalar_missing_field_and_refused_introspection() -> None:
    """
    Given a fake with orderBy a list of enums, orderDirection a plain string, componentTypes a plain enum, fromDate a
    Date scalar, no actionType and introspection refused
    When queries are written for that schema, with a wrong date, with actionType, and introspection is asked
    Then the right query is answered with its values, and the others are refused; the same fake with introspection
    on answers it and names its typings
    """
    settings: dict[str, Any] = {"order_by": "enums", "order_direction": "string", "component_types": "enum", "from_date": "Date"}
    fake = FakeLivePerson(**settings, action_type=False, introspection=False)
    log = RequestRecord(0, "POST", "/", "audit")
    query = (
        '{auditData(first: 1, fromDate: "2024-03-09", orderBy: [changeTimestamp], orderDirection: "ASC", '
        "componentTypes: ACUserObject) {changeDate}}"
    )
    assert "data" in fake.audit(query, log)[1]
    assert log.audit_args["orderBy"] == ["changeTimestamp"] and log.audit_args["componentTypes"] == "ACUserObject"
    assert "errors" in answer(fake, 'first: 1, fromDate: "2024-03"')
    assert "errors" in answer(fake, "first: 1, fromDate: 20240309")
    assert "errors" in answer(fake, "first: 1", "changeDate actionType")
    assert "errors" in answer(fake, "first: 1, orderBy: [actionType]")  # the column exists only with the field
    assert "data" in answer(FakeLivePerson(order_by="enums"), "first: 1, orderBy: [actionType]")
    introspection = '{__type(name: "Query") {fields {args {name type {kind name ofType {kind name}}}}}}'
    assert "errors" in fake.audit(introspection, log)[1]
    described = FakeLivePerson(**settings).audit(introspection, log)[1]["data"]["__type"]["fields"][0]["args"]
    kinds = {arg["name"]: arg["type"] for arg in described}
    assert kinds["orderBy"] == {"kind": "LIST", "name": None, "ofType": {"kind": "ENUM", "name": "AuditOrderColumn"}}
    assert kinds["orderDirection"] == {"kind": "SCALAR", "name": "String", "ofType": None}
    assert kinds["fromDate"] == {"kind": "SCALAR", "name": "Date", "ofType": None}


DAY = 'fromDate: "2024-03-09", toDate: "2024-03-10", timezone: "UTC", orderBy: ["changeTimestamp"], orderDirection: ["ASC"]'


def stamped(response: requests.Response) -> list[datetime]:
    return [
        datetime.strptime(row["changeDate"], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
        for row in response.json()["data"]["auditData"]
    ]


def test_changes_land_between_queries_near_now() -> None:
    """
    Given a fake whose changes land before every audit query (live_edge 1), its clock at 2024-03-10 12:00 UTC
    When the day is read three times
    Then each read sees the changes landed before it, stamped within two seconds before now, each landing logged
    and part of the ground truth
    """
    now = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
    with FakeLivePerson(seed=3, live_edge=1.0, clock=lambda: now.timestamp()) as fake:
        bearer = token(fake).json()["access_token"]
        seen = [stamped(audit(fake, f"{DAY}, first: 1000", bearer)) for _ in range(3)]
        assert [landing.reason for landing in fake.landed] == ["between queries"] * 3
        totals = [sum(landing.count for landing in fake.landed[: index + 1]) for index in range(3)]
        assert [len(times) for times in seen] == totals
        assert 3 <= totals[-1] <= 9
        assert all(now - timedelta(seconds=2) <= moment <= now for moment in seen[-1])
        assert len(fake.expected()) == totals[-1]


def test_changes_land_right_after_a_query_that_reached_the_end() -> None:
    """
    Given 30 records and a fake whose changes land right after every query that reached the end of its result
    When a page that ends before the result's end, then a short page, then the same short page again are read
    Then nothing lands after the first; the short page's answer is what was there when it was asked, and the changes
    landed after it are in the next answer
    """
    now = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
    rng = data.make_rng(6)
    with FakeLivePerson(seed=3, live_edge_at_end=1.0, clock=lambda: now.timestamp()) as fake:
        fake.add_records(data.make_record(now - timedelta(hours=1, seconds=index), rng) for index in range(30))
        bearer = token(fake).json()["access_token"]
        assert len(stamped(audit(fake, f"{DAY}, first: 20, offset: 0", bearer))) == 20
        assert fake.landed == []
        short = audit(fake, f"{DAY}, first: 20, offset: 20", bearer)
        assert (len(stamped(short)), short.headers["X-Total-Count"]) == (10, "30")
        assert [landing.reason for landing in fake.landed] == ["after the end"]
        again = audit(fake, f"{DAY}, first: 20, offset: 20", bearer)
        assert len(stamped(again)) == 10 + fake.landed[0].count
        assert len(fake.landed) == 2  # it reached the end again


def test_late_changes_land_in_the_watched_days_and_count_as_late() -> None:
    """
    Given a fake whose every landing is a late change (live_edge_late 1)
    When the two watched days are read five times
    Then each read brings one more record, stamped yesterday or today (UTC), visible from the moment it landed, so
    counted as late
    """
    now = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
    with FakeLivePerson(seed=4, live_edge=1.0, live_edge_late=1.0, clock=lambda: now.timestamp()) as fake:
        bearer = token(fake).json()["access_token"]
        counts = [len(stamped(audit(fake, f"{DAY}, first: 1000", bearer))) for _ in range(5)]
        assert counts == [1, 2, 3, 4, 5]
        assert [landing.reason for landing in fake.landed] == ["late"] * 5
        times = stamped(audit(fake, f"{DAY}, first: 1000", bearer))
        assert all(datetime(2024, 3, 9, tzinfo=UTC) <= moment <= now for moment in times)
        assert fake.late_beyond(120) >= sum(1 for moment in times[:5] if moment < now - timedelta(seconds=120))
        assert fake.late_beyond(120) >= 3  # five random moments in 36 hours: all but by chance are far in the past


def test_bulk_change_is_many_different_records_in_one_second() -> None:
    """
    Given a bulk change of 1,500 records
    When it is made
    Then all are in one second, all different, and only their objectName tells them apart
    """
    when = datetime(2024, 3, 10, 9, 0, tzinfo=UTC)
    records = data.bulk_change(when, 1500, data.make_rng(7))
    assert {record["timestamp"] for record in records} == {when}
    assert len({record["objectName"] for record in records}) == 1500
    others = [{key: value for key, value in record.items() if key != "objectName"} for record in records]
    assert all(other == others[0] for other in others)


BULK_PAGE = 'fromDate: "2024-03-10", timezone: "UTC", first: 1000, offset: %d, orderBy: [%s], orderDirection: ["ASC", "ASC"]'


def read_bulk(fake: FakeLivePerson, columns: str, bearer: str) -> list[str]:
    """The bulk change read in two pages of 1,000 (offsets 0 and 1,000)."""
    return names(audit(fake, BULK_PAGE % (0, columns), bearer)) + names(audit(fake, BULK_PAGE % (1000, columns), bearer))


@pytest.mark.parametrize("tie_columns", ["honoured", "refused", "ignored"])
def test_order_by_columns_after_change_timestamp(tie_columns: str) -> None:
    """
    Given a bulk change of 1,500 records in one second, ties shuffled, and a fake that honours, refuses or ignores
    orderBy columns after changeTimestamp
    When it is read in pages of 1,000 ordered by changeTimestamp then objectName, twice, and by an unknown column
    Then honoured: both reads are the same total order, every record once; refused: a GraphQL error; ignored: the
    answer of changeTimestamp alone, so two reads disagree and records are lost and doubled across the pages; an
    unknown column is refused by all
    """
    when = datetime(2024, 3, 10, 9, 0, tzinfo=UTC)
    with FakeLivePerson(seed=5, tie_order="shuffled", tie_columns=tie_columns) as fake:
        fake.add_records(data.bulk_change(when, 1500, data.make_rng(8)))
        bearer = token(fake).json()["access_token"]
        columns = '"changeTimestamp", "objectName"'
        assert audit(fake, BULK_PAGE % (0, '"changeTimestamp", "nope"'), bearer).json()["errors"]
        if tie_columns == "refused":
            refused = audit(fake, BULK_PAGE % (0, columns), bearer).json()
            assert refused["errors"] and "data" not in refused
            assert len(names(audit(fake, BULK_PAGE % (0, '"changeTimestamp"'), bearer))) == 1000
            return
        first, second = read_bulk(fake, columns, bearer), read_bulk(fake, columns, bearer)
        if tie_columns == "honoured":
            assert first == second == sorted(first)
            assert len(set(first)) == 1500
        else:
            assert first != second
            assert len(set(first)) < 1500 and len(first) == 1500


def test_tie_columns_setting_is_checked() -> None:
    """
    Given a tie_columns value the fake does not know
    When a fake is made with it
    Then it is refused, naming the setting
    """
    with pytest.raises(ValueError, match="tie_columns"):
        FakeLivePerson(tie_columns="sometimes")


# ------------------------------------------------------------------ API keys (OAuth 1.0), signed here by oauthlib's own client


def signed_audit(
    fake: FakeLivePerson, secret: str | None = None, nonce: str | None = None, timestamp: float | None = None
) -> requests.Response:
    """An audit query signed by oauthlib's OAuth 1.0 client with the fake's API key (or another secret)."""
    app_key, app_secret, access_token, token_secret = fake.api_key
    url = f"{fake.url}/api/account/{fake.account_id}/configuration/metadata/audit"
    signer = oauth1.Client(
        app_key,
        client_secret=secret or app_secret,
        resource_owner_key=access_token,
        resource_owner_secret=token_secret,
        nonce=nonce,
        timestamp=None if timestamp is None else str(int(timestamp)),
    )
    _, headers, _ = signer.sign(url, "POST")
    return requests.post(url, json={"query": QUERY % "first: 2"}, headers=headers, verify=fake.ca_bundle, timeout=10)


def test_an_api_key_signature_oauthlib_made_is_accepted(fake: FakeLivePerson) -> None:
    """
    Given a query signed by oauthlib's OAuth 1.0 client with the fake's API key
    When it reaches the Audit Trail
    Then it is answered, and the request log says it was an OAuth 1.0 signature with that nonce
    """
    answer = signed_audit(fake, nonce="n-accepted-1")
    assert answer.status_code == 200 and len(names(answer)) == 2
    assert (fake.requests[-1].auth, fake.requests[-1].nonce) == ("oauth1", "n-accepted-1")


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"secret": "not-the-app-secret"}, "invalid signature"),
        ({"timestamp_offset": 330}, "timestamp out of range"),  # whole seconds and the request's own time: not 301
        ({"timestamp_offset": -330}, "timestamp out of range"),
    ],
)
def test_a_wrong_secret_or_a_stale_timestamp_is_refused(fake: FakeLivePerson, change: dict[str, Any], why: str) -> None:
    """
    Given a query signed with a wrong secret, or with a timestamp 5.5 minutes from the fake's clock
    When it reaches the Audit Trail
    Then it is refused with 401, and the request log says why
    """
    offset = change.get("timestamp_offset")
    answer = signed_audit(fake, secret=change.get("secret"), timestamp=None if offset is None else time.time() + offset)
    assert answer.status_code == 401
    assert fake.requests[-1].auth == why


def test_a_timestamp_within_5_minutes_is_accepted(fake: FakeLivePerson) -> None:
    """
    Given queries signed with timestamps 4.5 minutes behind and ahead of the fake's clock
    When they reach the Audit Trail
    Then both are answered
    """
    assert signed_audit(fake, timestamp=time.time() - 270).status_code == 200
    assert signed_audit(fake, timestamp=time.time() + 270).status_code == 200


def test_a_reused_nonce_is_refused(fake: FakeLivePerson) -> None:
    """
    Given a query signed with a nonce, accepted
    When another query, correctly signed, uses the same nonce
    Then it is refused with 401
    """
    assert signed_audit(fake, nonce="n-once").status_code == 200
    assert signed_audit(fake, nonce="n-once").status_code == 401
    assert fake.requests[-1].auth == "nonce already used"


def test_the_date_header_is_the_fakes_clock() -> None:
    """
    Given a fake whose clock is 10 minutes ahead of this machine's
    When it answers, and a query is signed with this machine's time
    Then its Date header says its own time, and the signature is refused for its timestamp
    """
    with FakeLivePerson(clock=lambda: time.time() + 600) as ahead:
        answer = signed_audit(ahead)
        served = email.utils.parsedate_to_datetime(answer.headers["Date"]).timestamp()
        assert answer.status_code == 401 and ahead.requests[-1].auth == "timestamp out of range"
        assert 590 <= served - time.time() <= 610
