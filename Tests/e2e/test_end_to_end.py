"""End to end: the integration, run the platform's way, against the fake LivePerson over HTTPS.

Every test compares what reached the XSIAM stand-in (the state folder's events.ndjson) with the fake's ground truth.
Retry pauses run on a virtual clock so the suite stays fast; everything else is real: TLS, HTTP, JSON, GraphQL.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from Tests import platform_run, runner
from Tests.fake_liveperson import FakeLivePerson, data
from Tests.platform_run import VirtualClock

pytestmark = pytest.mark.e2e
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def fake() -> Any:
    with FakeLivePerson(seed=3) as server:
        yield server


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> VirtualClock:
    virtual = VirtualClock()
    import LivePersonAuditTrail  # noqa: PLC0415 - the platform's import path is set by conftest

    monkeypatch.setattr(LivePersonAuditTrail, "time", virtual)
    return virtual


@pytest.fixture
def instance(tmp_path: Path, fake: FakeLivePerson, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle)
    state = tmp_path / "instance"
    runner.configure_for_fake(state, fake, first_fetch="5 days", page_size="100", max_fetch="700")
    return state


def fetch(state: Path) -> platform_run.Outcome:
    return platform_run.run_command(state, "fetch-events")


def settle_all() -> None:
    """The platform's later runs: the module's clock moves an hour on, so every record the settle delay held is due."""
    import LivePersonAuditTrail  # noqa: PLC0415 - the platform's import path is set by conftest

    clock = LivePersonAuditTrail.time
    assert isinstance(clock, VirtualClock), "the `clock` fixture puts a VirtualClock in place of the module's time"
    clock.offset += 3600


def drain(state: Path, runs: int = 60) -> None:
    settle_all()
    for _ in range(runs):
        outcome = fetch(state)
        assert outcome.ok, outcome.error
        if outcome.events_sent == 0:
            return
    raise AssertionError("the backlog did not drain")


def assert_exactly_once(fake: FakeLivePerson, state: Path, now: datetime = NOW, **filters: Any) -> None:
    """Every record of the last five days before `now` (when the test's records were made) delivered exactly once."""
    expected = fake.expected(since=now - timedelta(days=5), **filters)
    lost, duplicated = runner.compare(expected, runner.delivered_events(state))
    assert (lost, duplicated) == (0, 0), f"{lost} lost, {duplicated} duplicated of {len(expected)} (records made at {now})"


def calls(fake: FakeLivePerson, since: int) -> Counter:
    return Counter(entry.endpoint for entry in fake.requests[since:])


@pytest.mark.slow  # longer than the quick loop allows
def test_multi_day_backlog_with_bursts_drains_exactly(fake: FakeLivePerson, instance: Path) -> None:
    """
    Given three days of records with LPA changes, automatic updates, 600-record bursts in one second and midnights,
    larger than max_fetch
    When fetch-events runs until nothing is left, with new records (a same-second burst spanning a page and a run
    boundary, and a crossing of midnight) appended between runs
    Then every record the settings select is delivered exactly once, and _time is UTC ISO 8601
    """
    rng = data.make_rng(11)
    fake.add_records(data.generate_backlog(NOW - timedelta(days=3), NOW - timedelta(minutes=10), 1500, rng))
    first = fetch(instance)
    assert first.ok and 0 < first.events_sent <= 700  # max_fetch, in whole seconds (a 600-record second may wait)
    burst_second = NOW - timedelta(minutes=5)
    fake.add_records(data.burst(burst_second, 250, rng, identical=True))
    fetch(instance)
    fake.add_records(data.burst(burst_second, 30, rng, identical=True))  # the same second grows after it was read
    drain(instance)
    assert_exactly_once(fake, instance)
    event = runner.delivered_events(instance)[0]
    assert event["_time"].endswith("Z") and "T" in event["_time"]
    assert event["changeDate"][:10] == event["_time"][:10]


def test_steady_state_run_calls_only_the_audit_api(fake: FakeLivePerson, instance: Path) -> None:
    """
    Given an instance that already has its host and token cached
    When a scheduled run finds nothing new
    Then it makes exactly one audit call and no domain or token call
    """
    fake.add_records(data.generate_backlog(NOW - timedelta(hours=3), NOW - timedelta(hours=1), 300, data.make_rng(2)))
    drain(instance)
    mark = len(fake.requests)
    assert fetch(instance).events_sent == 0
    assert calls(fake, mark) == Counter({"audit": 1})


def test_lpa_and_automatic_update_settings_select_records(fake: FakeLivePerson, instance: Path) -> None:
    """
    Given records by users, by LivePerson administrators and automatic updates
    When the instance collects with LPA off and automatic updates on
    Then exactly the records those settings select are delivered
    """
    fake.add_records(data.generate_backlog(NOW - timedelta(days=1), NOW - timedelta(minutes=1), 2000, data.make_rng(5)))
    params = json.loads((instance / "params.json").read_text())
    params.update(lpa=False, automatic_updates=True)
    (instance / "params.json").write_text(json.dumps(params))
    drain(instance)
    assert_exactly_once(fake, instance, lpa=False, automatic_updates=True)


# Each fault, injected on the first audit call of a run: what the run must end as.
FAULTS = [
    ({"kind": "status", "code": 500}, True),
    ({"kind": "status", "code": 502, "times": 3}, True),
    ({"kind": "status", "code": 503, "times": 4}, False),
    ({"kind": "status", "code": 429}, True),
    ({"kind": "status", "code": 429, "retry_after": 3}, True),
    ({"kind": "status", "code": 401}, True),
    ({"kind": "expired_token"}, True),
    ({"kind": "status", "code": 403}, False),
    ({"kind": "status", "code": 451}, False),
    ({"kind": "reset"}, True),
    ({"kind": "slow", "seconds": 0.3}, True),
    ({"kind": "malformed_json"}, True),  # an answer that is not GraphQL is asked again once
    ({"kind": "graphql_errors"}, True),
    ({"kind": "no_data"}, True),
    ({"kind": "no_data", "body": {"data": None}}, True),
    ({"kind": "graphql_errors", "times": 10}, False),  # every query refused: the run fails
    ({"kind": "malformed_json", "times": 10}, False),
]


@pytest.mark.parametrize(
    ("fault", "run_succeeds"), FAULTS, ids=lambda value: json.dumps(value) if isinstance(value, dict) else None
)
def test_fault_then_recovery(fake: FakeLivePerson, instance: Path, fault: dict, run_succeeds: bool) -> None:
    """
    Given a steady instance and a fault on the next audit call (after a page of progress in the same run)
    When the run meets the fault, and later runs meet none
    Then the run retries, renews or fails as LivePerson's policy says, keeps its state consistent, and in the end
    every record is delivered exactly once
    """
    fake.add_records(data.generate_backlog(NOW - timedelta(hours=6), NOW - timedelta(hours=1), 1200, data.make_rng(7)))
    options = dict(fault)
    kind, times = options.pop("kind"), options.pop("times", 1)
    fake.faults.add("audit", kind, times=times, **options)
    outcome = fetch(instance)
    fake.faults.clear()  # later runs meet none
    assert outcome.ok is run_succeeds, outcome.error
    if not run_succeeds:
        assert outcome.error and "Failed to execute fetch-events" in outcome.error
    if kind == "status" and fault.get("code") == 403:
        assert "does not document which API permission" in str(outcome.error)
    drain(instance)
    assert_exactly_once(fake, instance)


def test_faults_in_the_middle_of_a_run_keep_earlier_pages(fake: FakeLivePerson, instance: Path, clock: VirtualClock) -> None:
    """
    Given a backlog of several pages and a server that fails for good on the third page
    When the run meets it
    Then the pages before it are delivered and saved, the run fails after the advised retries, and the next runs
    finish the backlog exactly once
    """
    fake.add_records(data.generate_backlog(NOW - timedelta(hours=20), NOW - timedelta(hours=1), 1200, data.make_rng(8)))
    original = fake.audit
    pages = {"n": 0}

    def failing_from_the_third_page(query: str, log: Any) -> Any:
        pages["n"] += "offset:" in query  # a page, not a query that learns the schema
        return (503, {"error": "down"}, {}) if pages["n"] >= 3 else original(query, log)

    fake.audit = failing_from_the_third_page  # type: ignore[method-assign]
    outcome = fetch(instance)
    assert not outcome.ok and "next run resumes" in str(outcome.error)
    delivered = len(runner.delivered_events(instance))
    assert 0 < delivered < 200  # the whole seconds of the pages read before the failure
    assert json.loads((instance / "last_run.json").read_text())["last"]
    assert clock.pauses == [5, 10, 15]
    fake.audit = original  # type: ignore[method-assign]
    drain(instance)
    assert_exactly_once(fake, instance)


def test_token_revoked_between_runs_and_expiring_within_a_run(fake: FakeLivePerson, instance: Path) -> None:
    """
    Given a cached token that LivePerson revoked between runs, and another that expires during a later run
    When the runs go on
    Then each time exactly one new token is asked for, and nothing is lost or doubled
    """
    fake.add_records(data.generate_backlog(NOW - timedelta(hours=8), NOW - timedelta(hours=1), 2000, data.make_rng(9)))
    fetch(instance)
    fake.revoke_tokens()
    mark = len(fake.requests)
    assert fetch(instance).ok
    assert calls(fake, mark)["token"] == 1
    fake.faults.add("audit", "expired_token")
    mark = len(fake.requests)
    assert fetch(instance).ok
    assert calls(fake, mark)["token"] == 1
    drain(instance)
    assert_exactly_once(fake, instance)


def test_test_module_and_get_events_over_https(fake: FakeLivePerson, instance: Path) -> None:
    """
    Given a working instance
    When test-module and liveperson-get-events limit=5 run
    Then test-module answers ok and the command shows five events without sending any
    """
    fake.add_records(data.generate_backlog(NOW - timedelta(days=2), NOW - timedelta(hours=1), 500, data.make_rng(4)))
    assert platform_run.run_command(instance, "test-module").results == ["ok"]
    outcome = platform_run.run_command(instance, "liveperson-get-events", {"limit": "5"})
    entry = outcome.results[-1]
    assert len(entry["EntryContext"]["LivePerson.AuditEvent"]) == 5
    shown_types = {event["objectType"] for event in entry["EntryContext"]["LivePerson.AuditEvent"]}
    assert shown_types <= set(data.OBJECTS)  # the display names records carry, never component names
    assert all(f"| {object_type} |" in entry["HumanReadable"] for object_type in shown_types)
    assert outcome.events_sent == 0


def test_wrong_secret_and_wrong_account_get_clear_messages(fake: FakeLivePerson, instance: Path) -> None:
    """
    Given a wrong client secret, then a wrong account ID
    When test-module runs
    Then each answer names the stage and the setting, and the secret appears nowhere
    """
    params = json.loads((instance / "params.json").read_text())
    params["credentials"]["password"] = "wrong-secret-value-xyz"
    (instance / "params.json").write_text(json.dumps(params))
    answer = platform_run.run_command(instance, "test-module").results[-1]
    assert answer.startswith("Authentication (Sentinel token, OAuth 2.0) failed") and '"Client secret"' in answer
    assert "wrong-secret-value-xyz" not in (instance / "log.txt").read_text() + answer
    params["credentials"]["password"] = fake.client_secret
    params["account_id"] = "87654321"
    (instance / "params.json").write_text(json.dumps(params))
    answer = platform_run.run_command(instance, "test-module").results[-1]
    assert answer.startswith("Domain API lookup failed") and '"Account ID"' in answer


def test_fresh_process_run_like_the_platform(fake: FakeLivePerson, instance: Path) -> None:
    """
    Given an instance folder
    When fetch-events runs in a fresh process through `python -m Tests.platform_run`
    Then it delivers, saves its cursor, and reports its outcome as JSON
    """
    import subprocess  # noqa: PLC0415

    fake.add_records(data.generate_backlog(NOW - timedelta(hours=2), NOW - timedelta(minutes=30), 300, data.make_rng(6)))
    done = subprocess.run(
        [sys.executable, "-m", "Tests.platform_run", str(instance), "fetch-events"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["ok"] and summary["sent"] > 0
    assert json.loads((instance / "last_run.json").read_text())["last"]


def test_account_id_and_api_key_alone_pass_test_module_and_fetch(
    fake: FakeLivePerson, tmp_path: Path, clock: VirtualClock
) -> None:
    """
    Given an instance configured as a new user does: account ID, client ID and secret (plus where the fake is)
    When test-module runs, then fetch-events before and after new changes arrive
    Then the Sentinel host is found through the Domain API, test-module answers ok and the new changes are delivered
    """
    state = tmp_path / "new-user"
    params = runner.configure_for_fake(state, fake)
    defaults = runner.manifest_defaults()
    assert {key for key, value in params.items() if defaults.get(key) != value} == {"account_id", "credentials", "domain_api_url"}
    assert platform_run.run_command(state, "test-module").results == ["ok"]
    assert any(entry.path.endswith("/service/sentinel/baseURI.json") for entry in fake.requests)
    assert calls(fake, 0)["token"] == 1
    assert platform_run.run_command(state, "fetch-events").ok
    changes = data.live_traffic(datetime.now(UTC), data.make_rng(10))
    fake.add_records(changes)
    clock.offset += 300  # the next runs, a few minutes later
    outcome = platform_run.run_command(state, "fetch-events")
    assert outcome.ok, outcome.error
    assert outcome.events_sent == len(changes)
    assert runner.compare(fake.expected(), runner.delivered_events(state)) == (0, 0)


def audit_requests(fake: FakeLivePerson, since: int = 0) -> list[Any]:
    return [entry for entry in fake.requests[since:] if entry.endpoint == "audit"]


def test_an_api_key_instance_collects_everything_once_with_faults(
    tmp_path: Path, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    Given an instance set up with an API key's four values alone (no client credentials), a fake whose clock is the
    engine's, three days of records, and faults on the Audit Trail: 500s, a reset connection, a 429 and a 401
    When test-module, then fetch-events until drained (new records arriving between runs), then liveperson-get-events
    run, the platform's way
    Then test-module is ok, every record is delivered exactly once, get-events shows records; every Audit Trail
    request, retries included, carried an OAuth 1.0 signature oauthlib verified, no nonce twice, and neither
    Sentinel nor its Domain API lookup was ever asked
    """
    with FakeLivePerson(seed=4, clock=clock.time) as fake:  # the fake's clock follows the engine's virtual one
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle)
        state = tmp_path / "api-key"
        params = runner.configure_for_fake(state, fake, api_key=True, first_fetch="5 days", page_size="100", max_fetch="700")
        assert "credentials" not in params or not params["credentials"].get("identifier")
        fake.add_records(data.generate_backlog(NOW - timedelta(days=3), NOW - timedelta(minutes=10), 900, data.make_rng(8)))
        assert platform_run.run_command(state, "test-module").results == ["ok"]
        fake.faults.add("audit", "status", times=2, code=500)
        fake.faults.add("audit", "reset")
        fake.faults.add("audit", "status", code=429)
        fake.faults.add("audit", "expired_token")  # a 401: the client signs afresh once
        first = fetch(state)
        assert first.ok, first.error
        assert fake.faults.pending() == 0
        # 500, 500 and 429 paused as advised; the reset and the 401 are tried again at once (the 401 signed afresh)
        assert clock.pauses == [5, 10, 1]
        faulted = [entry.fault for entry in audit_requests(fake) if entry.fault]
        assert faulted == ["status", "status", "reset", "status", "expired_token"]
        fake.add_records(data.live_traffic(NOW, data.make_rng(9)))
        drain(state)
        assert_exactly_once(fake, state)
        shown = platform_run.run_command(state, "liveperson-get-events", {"limit": "5", "start_time": "4 days"})
        assert shown.ok and "LivePerson Audit Trail events (5)" in platform_run.readable(shown.results[-1])
        audits = audit_requests(fake)
        assert len(audits) > 10
        assert {entry.auth for entry in audits} == {"oauth1"}, Counter(entry.auth for entry in audits)
        nonces = [entry.nonce for entry in audits]
        assert len(set(nonces)) == len(nonces)
        assert calls(fake, 0)["token"] == 0
        assert not any("/service/sentinel/" in entry.path for entry in fake.requests)
        assert not any(secret in (state / "log.txt").read_text() for secret in fake.api_key)


def test_an_engine_clock_off_by_minutes_is_named_by_test_module(
    tmp_path: Path, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    Given an API key instance on an engine whose clock is 10 minutes behind LivePerson's (the fake refuses a
    timestamp more than 5 minutes off)
    When test-module runs
    Then it fails at the API key's authentication and says to check the engine's clock, after exactly two signed
    attempts, and no secret is in its answer
    """
    with FakeLivePerson(clock=lambda: clock.time() + 600) as fake:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle)
        state = tmp_path / "late-clock"
        runner.configure_for_fake(state, fake, api_key=True)
        outcome = platform_run.run_command(state, "test-module")
        answer = str(outcome.results[-1])
        assert answer.startswith("Authentication (API key, OAuth 1.0) failed:"), answer
        assert re.search(r"this engine's clock is (599|600|601) s behind LivePerson's", answer)  # Date: whole seconds
        assert "check the engine's clock" in answer
        assert [entry.auth for entry in audit_requests(fake)] == ["timestamp out of range"] * 2
        assert not any(secret in answer for secret in fake.api_key)


def test_a_changed_client_secret_fails_fetch_events_at_once(fake: FakeLivePerson, instance: Path) -> None:
    """
    Given an instance that collected with its client secret (a token cached), and the secret then changed to a
    wrong one
    When test-module and fetch-events run
    Then both fail naming the client credentials: fetch-events does not go on with the token cached for the old secret
    """
    fake.add_records(data.generate_backlog(NOW - timedelta(hours=3), NOW - timedelta(hours=1), 200, data.make_rng(3)))
    drain(instance)
    runner.configure(instance, {}, environment={"LIVEPERSON_CLIENT_SECRET": "a-wrong-secret-42"})
    tested = platform_run.run_command(instance, "test-module")
    fetched = fetch(instance)
    assert not tested.ok and not fetched.ok
    assert '"Client ID" and "Client secret"' in str(fetched.error)
    assert "a-wrong-secret-42" not in str(fetched.error)


def test_a_given_sentinel_host_is_used_without_asking_the_domain_api(fake: FakeLivePerson, instance: Path) -> None:
    """
    Given an instance that sets the Sentinel host
    When test-module runs
    Then it answers ok, and the Domain API is asked for the Audit Trail's host only
    """
    runner.configure(instance, {"auth_server_url": f"https://{fake.host}"})
    assert platform_run.run_command(instance, "test-module").results == ["ok"]
    services = [entry.path.split("/service/")[1] for entry in fake.requests if entry.endpoint == "domain"]
    assert services == ["accountConfigReadOnly/baseURI.json"]


def test_test_module_against_a_closed_port_answers_at_once(tmp_path: Path, fake: FakeLivePerson, clock: VirtualClock) -> None:
    """
    Given an instance whose Domain API URL points at a port where nothing listens
    When test-module runs
    Then it answers with one try, no retry pause, naming the host and the setting to check, and no "next run"
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    state = tmp_path / "closed"
    runner.configure_for_fake(state, fake, domain_api_url=f"https://127.0.0.1:{closed}")
    answer = platform_run.run_command(state, "test-module").results[-1]
    assert answer == (
        f'Domain API lookup failed: Could not reach 127.0.0.1:{closed} (connection refused): check "Domain API URL" and '
        '"Use system proxy settings".'
    )
    assert clock.pauses == []


# What the documentation leaves open, as the fake can play it: (constructor settings, name).
UNDOCUMENTED = [
    ({"max_first": 100}, "silent cap of 100"),
    ({"max_first": 200, "over_max_first": "error"}, "error above 200"),
    ({"max_first": 200, "over_max_first": "error", "graphql_error_status": 400}, "400 above 200"),
    ({"tie_order": "shuffled"}, "shuffled ties"),
    ({"commit_delay": 60}, "commit delay 60 s"),
    ({"from_date_zone": "US/Eastern"}, "US/Eastern fromDate"),
    ({"total_count": "page"}, "X-Total-Count of the page"),
    ({"precision": "millisecond"}, "millisecond changeDate"),
]


@pytest.mark.parametrize(("behaviour", "name"), UNDOCUMENTED, ids=[name for _, name in UNDOCUMENTED])
def test_undocumented_behaviour_keeps_every_record_once(
    tmp_path: Path, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch, behaviour: dict, name: str
) -> None:
    """
    Given a fake that plays one behaviour the documentation leaves open, a day of records with bursts larger than
    a page and midnights, changes arriving between runs (some a few seconds late) and landing while runs read
    (between queries, and right after a query that reached the end), and three changes that appear hours late, in
    seconds already delivered
    When fetch-events runs with the manifest's page size and settle delay, then drains
    Then every record is delivered exactly once, and a quiet run makes one audit call, changes landing meanwhile

    The records follow the clock, so each time of day plays other data: E2E_NOW=<ISO time> plays that moment again.
    """
    start = datetime.fromisoformat(os.environ["E2E_NOW"]) if os.environ.get("E2E_NOW") else NOW
    undocumented_behaviour_scenario(tmp_path, clock, monkeypatch, behaviour, start)


def test_shuffled_ties_at_the_moment_a_second_lay_across_the_probe(
    tmp_path: Path, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    Given the shuffled-ties scenario at 11:32 UTC on 2026-11-27, whose data put a second of several records across
    the first page and the probe that taught the collector the fake's page cap
    When fetch-events runs, then drains
    Then every record is delivered exactly once (joining the probe to the page delivered one of them twice and lost
    another)
    """
    undocumented_behaviour_scenario(
        tmp_path, clock, monkeypatch, {"tie_order": "shuffled"}, datetime(2026, 11, 27, 11, 32, tzinfo=UTC)
    )


def undocumented_behaviour_scenario(
    tmp_path: Path, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch, behaviour: dict, start: datetime
) -> None:
    clock.offset = start.timestamp() - time.time()  # the module's clock and the fake's start at `start`
    # One clock for both sides; changes land while runs read.
    with FakeLivePerson(seed=13, clock=clock.time, live_edge=0.1, live_edge_at_end=0.5, **behaviour) as fake:
        state = tmp_path / "instance"
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle)  # restored after the test, as the `instance` fixture does
        runner.configure_for_fake(state, fake, first_fetch="2 days", max_fetch="3000")
        rng = data.make_rng(17)
        fake.add_records(data.generate_backlog(start - timedelta(days=1, hours=6), start - timedelta(minutes=20), 1200, rng))
        for _ in range(4):
            assert fetch(state).ok
            fake.add_records(data.live_traffic(datetime.fromtimestamp(clock.time(), UTC) - timedelta(seconds=30), rng))
        fake.add_records([data.make_record(start - timedelta(hours=hours, seconds=7), rng) for hours in (2, 3, 9)])
        assert sum(landing.count for landing in fake.landed) > 0
        fake.live_edge = fake.live_edge_at_end = 0.0  # the account falls quiet: what landed settles and is drained
        drain(state)
        assert_exactly_once(fake, state, now=start)  # its message names the moment: E2E_NOW plays it again
        fake.live_edge = fake.live_edge_at_end = 1.0  # a quiet run, changes landing before and after its one query
        mark = len(fake.requests)
        assert fetch(state).events_sent == 0
        assert calls(fake, mark) == Counter({"audit": 1})
        assert [landing.reason for landing in fake.landed[-2:]] == ["between queries", "after the end"]


@pytest.mark.parametrize(
    ("tie_columns", "order_by"),
    [("honoured", "strings"), ("refused", "strings"), ("ignored", "strings"), ("honoured", "string")],
    ids=["columns honoured", "columns refused", "columns ignored", "orderBy a single string"],
)
def test_a_bulk_change_larger_than_the_largest_page_is_read_exactly_or_named(
    tmp_path: Path, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch, tie_columns: str, order_by: str
) -> None:
    """
    Given a bulk change of 1,500 different records in one second, a fake that gives at most 1,000 records a page
    and orders ties anew on every query, and that honours, refuses or silently ignores orderBy columns after
    changeTimestamp, or types orderBy as a single string
    When fetch-events drains
    Then with the columns honoured every record is delivered exactly once; refused, ignored or not askable, the log
    names the second that could not be read exactly, and every other record is delivered exactly once
    """
    clock.offset = NOW.timestamp() - time.time()
    fake = FakeLivePerson(
        seed=21, clock=clock.time, max_first=1000, tie_order="shuffled", tie_columns=tie_columns, order_by=order_by
    )
    with fake:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle)
        state = tmp_path / "instance"
        runner.configure_for_fake(state, fake, first_fetch="1 day", max_fetch="5000")
        rng = data.make_rng(5)
        bulk_second = NOW - timedelta(hours=2)
        fake.add_records(data.generate_backlog(NOW - timedelta(hours=6), NOW - timedelta(minutes=30), 400, rng))
        fake.add_records(data.bulk_change(bulk_second, 1500, rng))
        settle_all()
        logs: list[str] = []
        for _ in range(10):
            outcome = fetch(state)
            assert outcome.ok, outcome.error
            logs += outcome.logs
            if outcome.events_sent == 0:
                break
        named = [line for line in logs if "could not be read exactly" in line]
        if (tie_columns, order_by) == ("honoured", "strings"):
            assert named == []
            assert_exactly_once(fake, state)
            return
        assert len(named) == 1
        assert bulk_second.strftime("%Y-%m-%dT%H:%M:%SZ") in named[0]
        bulk = {f"agent {number:05d}" for number in range(1500)}
        expected = [r for r in fake.expected(since=NOW - timedelta(days=5)) if r["objectName"] not in bulk]
        delivered = [e for e in runner.delivered_events(state) if e["objectName"] not in bulk]
        assert runner.compare(expected, delivered) == (0, 0)
