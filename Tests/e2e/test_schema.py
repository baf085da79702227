"""End to end: the collector learns whatever schema the fake LivePerson plays, and then collects exactly once.

The fake types orderBy, orderDirection and componentTypes each on its own (a list of strings, a list of enums, a plain
string or a plain enum), fromDate as a String or a strict Date scalar, with or without actionType and introspection;
graphql-core refuses any query that does not fit.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from Tests import platform_run, runner
from Tests.e2e.test_end_to_end import NOW, assert_exactly_once, calls, clock, drain, fetch  # noqa: F401 - clock: a fixture
from Tests.fake_liveperson import FakeLivePerson, data
from Tests.platform_run import VirtualClock

pytestmark = pytest.mark.e2e

DESCRIBED = {"strings": "a list of strings", "enums": "a list of enums", "string": "a string", "enum": "an enum"}
# (orderBy, orderDirection, componentTypes, fromDate, introspection): every typing of each argument at least once.
SCHEMAS = [
    pytest.param("strings", "strings", "strings", "String", False, id="all lists of strings"),
    pytest.param("enums", "enums", "enums", "Date", False, id="lists of enums, a Date scalar"),
    pytest.param("string", "string", "string", "String", False, id="plain strings"),
    pytest.param("enum", "enum", "enum", "Date", False, id="plain enums, a Date scalar"),
    pytest.param("enums", "string", "strings", "String", False, id="mixed: enum list, string, string list"),
    pytest.param("string", "enums", "enum", "Date", False, id="mixed: string, enum list, enum"),
    pytest.param("enum", "strings", "enums", "Date", True, id="mixed, answering introspection"),
]


@pytest.mark.parametrize(("order_by", "order_direction", "component_types", "from_date", "introspection"), SCHEMAS)
def test_every_schema_the_server_may_have_is_learned_and_collected_exactly_once(
    tmp_path: Path,
    clock: VirtualClock,  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
    order_by: str,
    order_direction: str,
    component_types: str,
    from_date: str,
    introspection: bool,
) -> None:
    """
    Given a fake LivePerson typed in one way (each argument on its own), and an instance that filters on component
    types (two where componentTypes is a list, one where it takes a single value)
    When test-module runs, then fetch-events until the backlog is drained, then a quiet run
    Then test-module answers ok, the log says once which typing was found, every selected record is delivered
    exactly once, and the quiet run is one audit call
    """
    single = component_types in ("string", "enum")
    types = "ACUserObject" if single else "ACUserObject,ACSkillObject"
    typed = FakeLivePerson(
        seed=5,
        order_by=order_by,
        order_direction=order_direction,
        component_types=component_types,
        from_date=from_date,
        introspection=introspection,
    )
    with typed as fake:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle)
        state = tmp_path / "instance"
        runner.configure_for_fake(state, fake, first_fetch="5 days", page_size="100", max_fetch="700", component_types=types)
        fake.add_records(data.generate_backlog(NOW - timedelta(days=2), NOW - timedelta(minutes=10), 1500, data.make_rng(9)))
        tested = platform_run.run_command(state, "test-module")
        assert tested.results == ["ok"], tested.results
        drain(state)
        assert_exactly_once(fake, state, component_types=types.split(","))
        mark = len(fake.requests)
        assert fetch(state).events_sent == 0
        assert calls(fake, mark) == Counter({"audit": 1})
    log = (state / "log.txt").read_text().splitlines()
    learned = [line for line in log if line.startswith("The Audit Trail's schema")]
    how = "from introspection" if introspection else "by asking"
    typings = f"orderBy {DESCRIBED[order_by]}, orderDirection {DESCRIBED[order_direction]}"
    assert learned == [
        f"The Audit Trail's schema ({how}): {typings}, componentTypes {DESCRIBED[component_types]}, fromDate a string, "
        "actionType present."
    ]


def test_a_server_without_action_type_is_collected_and_the_silenced_rules_are_named(
    tmp_path: Path,
    clock: VirtualClock,  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """
    Given a fake LivePerson whose records have no actionType (and refuses introspection)
    When test-module runs, then fetch-events drains
    Then test-module still answers ok and its log names the correlation rules that can no longer fire; the runs
    deliver every record exactly once, without actionType, and their log says it too
    """
    import LivePersonAuditTrail  # noqa: PLC0415 - the platform's import path is set by conftest

    with FakeLivePerson(seed=6, action_type=False, introspection=False) as fake:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle)
        state = tmp_path / "instance"
        runner.configure_for_fake(state, fake, first_fetch="5 days", page_size="100", max_fetch="700")
        fake.add_records(data.generate_backlog(NOW - timedelta(days=1), NOW - timedelta(minutes=10), 600, data.make_rng(3)))
        tested = platform_run.run_command(state, "test-module")
        assert tested.results == ["ok"]
        rules = LivePersonAuditTrail.ACTION_TYPE_RULES
        assert any(all(rule in line for rule in rules) for line in tested.logs)
        first = fetch(state)
        assert any(all(rule in line for rule in rules) for line in first.logs)
        drain(state)
        assert_exactly_once(fake, state)
        assert not any("actionType" in event for event in runner.delivered_events(state))
