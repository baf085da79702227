"""The pack's correlation rules, run the way the platform runs them on events the module sends.

Each rule's XQL is evaluated by the pack's small XQL evaluator (Tests/xql.py) over the events `to_event` makes of
audit records written as LivePerson writes them, limited to the rule's search window as a scheduled run at NOW sees
it. Every rule has records it must fire on and benign records it must stay silent on.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from LivePersonAuditTrail import make_entries

from Tests.xql import XQLError, check_columns, parse_duration, parse_query, parse_time, run_query

PACK = Path(__file__).resolve().parent.parent / "Packs" / "LivePerson"
RULE_FILES = sorted((PACK / "CorrelationRules").glob("*.yml"))
RULES: dict[str, dict[str, Any]] = {path.stem: yaml.safe_load(path.read_text()) for path in RULE_FILES}
DATASET = "liveperson_liveengage_raw"
SCHEMA = json.loads((PACK / "ModelingRules" / "LivePersonAuditTrail" / "LivePersonAuditTrail_schema.json").read_text())
DATASET_FIELDS = {*SCHEMA[DATASET], "_time"}  # `_time` is the dataset's own, set by the module
SEVERITIES = {"SEV_010_INFO", "SEV_020_LOW", "SEV_030_MEDIUM", "SEV_040_HIGH", "SEV_050_CRITICAL"}
MITRE_TACTIC = re.compile(r"TA\d{4} - [A-Z][A-Za-z ]+")
MITRE_TECHNIQUE = re.compile(r"T\d{4}(\.\d{3})? - [A-Z][A-Za-z ]+")
VARIABLE = re.compile(r"\$([A-Za-z_]\w*)")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

Record = dict[str, Any]


def record(minutes_ago: float = 5, **fields: Any) -> Record:
    """An audit record as LivePerson's documented response writes it: a user's edit by an account administrator."""
    when = NOW - timedelta(minutes=minutes_ago)
    return {
        "accountId": "12345678",
        "objectType": "Users",
        "objectName": "Dana Cohen",
        "element": "Skills",
        "oldValue": "Billing",
        "newValue": "Billing, Sales",
        "actionType": "Edit",
        "originator": "Alex Admin",
        "originatorLoginName": "alex.admin",
        "originatorUserId": "4123456789",
        "originatorUserAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0",
        "originatorAuthType": "USER",
        "originatorIsLpa": False,
        "changeDate": when.strftime("%Y-%m-%d %H:%M:%S") + ".0",
        **fields,
    }


def deleted(object_type: str, name: str, minutes_ago: float = 5, **fields: Any) -> Record:
    """A whole object deleted: LivePerson names no element ("N/A") and leaves both values empty."""
    return record(
        minutes_ago,
        objectType=object_type,
        objectName=name,
        actionType="Delete",
        element="N/A",
        oldValue="",
        newValue="",
        **fields,
    )


def lpa(**fields: Any) -> Record:
    """A change by a LivePerson administrator."""
    return record(
        originator="LivePerson Support",
        originatorLoginName="LPA_jsmith",
        originatorUserId="1",
        originatorAuthType="LPA",
        originatorIsLpa=True,
        **fields,
    )


def run_rule(rule: dict[str, Any], records: list[Record]) -> list[dict[str, Any]]:
    """The alerts (result rows) of one scheduled run at NOW: the query over the events of its search window."""
    window = parse_duration(rule["search_window"])
    events = [entry.event() for entry in make_entries(records)]
    in_window = [event for event in events if NOW - window <= parse_time(event["_time"]) <= NOW]
    return run_query(parse_query(rule["xql_query"]), in_window)


# rule -> [(case, records, number of alerts)]
FIRES: dict[str, list[tuple[str, list[Record], int]]] = {
    "LivePerson_Administrator_Rights_Granted": [
        (
            "user given the Administrator profile",
            [record(element="Profiles", oldValue="Agent", newValue="Agent, Administrator")],
            1,
        ),
        ("new admin role, other case", [record(element="ROLES", oldValue="agent", newValue="ADMIN")], 1),
        (
            "profile given an admin permission",
            [
                record(
                    objectType="Profiles",
                    objectName="Team leads",
                    element="Permissions",
                    oldValue="View reports",
                    newValue="View reports, Admin: manage users",
                )
            ],
            1,
        ),
        (
            "two users promoted",
            [
                record(element="Profiles", oldValue="Agent", newValue="Administrator"),
                record(objectName="李娜", element="Profiles", oldValue="Agent", newValue="Administrator"),
            ],
            2,
        ),
    ],
    "LivePerson_Change_By_LivePerson_Administrator": [
        ("one LPA change", [lpa()], 1),
        (
            "an LPA session sums up in one alert",
            [lpa(), lpa(objectType="Profiles", element="Permissions"), lpa(objectType="Skills", element="Max wait time")],
            1,
        ),
    ],
    "LivePerson_Mass_Deletion_Of_Users_Or_Skills": [
        ("ten users deleted in ten minutes", [deleted("Users", f"Agent {n}", minutes_ago=n) for n in range(10)], 1),
        (
            "users and skills mixed, within the window",
            [deleted("Users", f"Agent {n}", minutes_ago=2 * n) for n in range(6)]
            + [deleted("Skills", f"Skill {n}", minutes_ago=25) for n in range(4)],
            1,
        ),
    ],
    "LivePerson_User_Password_Changed_By_Another_User": [
        ("administrator sets a user's password", [record(element="Password", oldValue="", newValue="")], 1),
        ("other case and unicode names", [record(objectName="Zoë Müller", element="PASSWORD", oldValue="", newValue="")], 1),
    ],
    "LivePerson_MTLS_Settings_Changed": [
        (
            "certificate added",
            [
                record(
                    objectType="MTLS Certification",
                    objectName="brand-api-client-2026",
                    element="N/A",
                    oldValue="",
                    newValue="",
                    actionType="Add new",
                )
            ],
            1,
        ),
        (
            "account mapping edited",
            [
                record(
                    objectType="MTLS Account Mapping",
                    objectName="https://api.brand.example/hooks",
                    element="Certificate",
                    oldValue="client-2025",
                    newValue="client-2026",
                )
            ],
            1,
        ),
        ("object type in other case", [record(objectType="mTLS certification", objectName="c", actionType="Delete")], 1),
    ],
}

# rule -> [(case, records)] on which it must stay silent
BENIGN: dict[str, list[tuple[str, list[Record]]]] = {
    "LivePerson_Administrator_Rights_Granted": [
        ("promotion without admin", [record(element="Profiles", oldValue="Agent", newValue="Agent, Agent Manager")]),
        ("admin rights removed", [record(element="Profiles", oldValue="Agent, Administrator", newValue="Agent")]),
        ("admin kept, more added", [record(element="Profiles", oldValue="Administrator", newValue="Administrator, Agent")]),
        ("a skill named like admin", [record(element="Skills", oldValue="Billing", newValue="Billing, Admin desk")]),
        ("user added whole", [record(element="N/A", oldValue="", newValue="", actionType="Add new")]),
        ("campaign with admin in a value", [record(objectType="Campaigns", element="Permissions", newValue="Admin")]),
        ("outside the search window", [record(minutes_ago=45, element="Profiles", oldValue="Agent", newValue="Administrator")]),
    ],
    "LivePerson_Change_By_LivePerson_Administrator": [
        ("the same change by an account user", [record(objectType="Profiles", element="Permissions")]),
        ("an LPA change an hour ago", [lpa(minutes_ago=60)]),
    ],
    "LivePerson_Mass_Deletion_Of_Users_Or_Skills": [
        ("nine deletions", [deleted("Users", f"Agent {n}", minutes_ago=n) for n in range(9)]),
        (
            "ten deletions by ten people",
            [deleted("Users", f"Agent {n}", originatorLoginName=f"admin{n}", originator=f"Admin {n}") for n in range(10)],
        ),
        ("ten campaigns deleted", [deleted("Campaigns", f"Campaign {n}") for n in range(10)]),
        ("ten user edits", [record(objectName=f"Agent {n}") for n in range(10)]),
        ("ten deletions over five hours", [deleted("Users", f"Agent {n}", minutes_ago=30 * n + 1) for n in range(10)]),
    ],
    "LivePerson_User_Password_Changed_By_Another_User": [
        (
            "own password, by display name",
            [record(objectName="Dana Cohen", originator="Dana Cohen", originatorLoginName="dana.cohen", element="Password")],
        ),
        (
            "own password, by login name",
            [record(objectName="Dana.Cohen", originator="Dana C.", originatorLoginName="dana.cohen", element="Password")],
        ),
        ("another user's skills", [record(element="Skills")]),
        ("user deleted", [deleted("Users", "Dana Cohen")]),
        ("a skill's password-like element", [record(objectType="Skills", objectName="Sales", element="Password hint")]),
    ],
    "LivePerson_MTLS_Settings_Changed": [
        ("a user edit", [record()]),
        ("a campaign named MTLS", [record(objectType="Campaigns", objectName="MTLS rollout", element="Status")]),
        ("an element named like MTLS", [record(element="MTLS certification")]),
    ],
}

CASES_FIRING = [(rule, case, records, count) for rule, cases in FIRES.items() for case, records, count in cases]
CASES_BENIGN = [(rule, case, records) for rule, cases in BENIGN.items() for case, records in cases]


def test_every_rule_has_cases_that_fire_and_cases_that_do_not() -> None:
    """
    Given the rule files of the pack
    When they are compared with the cases of this test
    Then each rule has cases it fires on and benign cases, and every case names a rule of the pack
    """
    assert len(RULES) >= 5
    assert set(FIRES) == set(BENIGN) == set(RULES)


@pytest.mark.parametrize(("rule", "case", "records", "count"), CASES_FIRING, ids=[f"{r}: {c}" for r, c, *_ in CASES_FIRING])
def test_rule_fires_on_the_records_it_is_meant_for(rule: str, case: str, records: list[Record], count: int) -> None:
    """
    Given audit records a rule is meant to catch, sent as the module sends them
    When the rule runs at NOW over its search window
    Then it raises the expected number of alerts, with every column its alert texts and fields name
    """
    alerts = run_rule(RULES[rule], records)
    assert len(alerts) == count
    for alert in alerts:
        assert alert_variables(RULES[rule]) <= set(alert)


@pytest.mark.parametrize(("rule", "case", "records"), CASES_BENIGN, ids=[f"{r}: {c}" for r, c, _ in CASES_BENIGN])
def test_rule_stays_silent_on_benign_records(rule: str, case: str, records: list[Record]) -> None:
    """
    Given benign audit records close to what a rule catches
    When the rule runs at NOW over its search window
    Then it raises no alert
    """
    assert run_rule(RULES[rule], records) == []


@pytest.mark.parametrize("name", sorted(RULES))
def test_rule_stays_silent_on_what_only_the_other_rules_catch(name: str) -> None:
    """
    Given every record the other rules fire on, with the benign cases of all rules
    When this rule runs
    Then it raises no alert: each rule catches its own behaviour, not its neighbours'
    """
    others = [item for other, _, records, _ in CASES_FIRING if other != name for item in records]
    assert run_rule(RULES[name], others) == []
    for _, benign in BENIGN[name]:
        assert run_rule(RULES[name], others + benign) == []


def test_lpa_alert_sums_up_the_session() -> None:
    """
    Given three changes by one LivePerson administrator in the window
    When the LPA rule runs
    Then one alert counts three changes, names their object types and the first and last change time
    """
    records = [lpa(minutes_ago=20), lpa(minutes_ago=10, objectType="Profiles"), lpa(minutes_ago=1, objectType="Skills")]
    [alert] = run_rule(RULES["LivePerson_Change_By_LivePerson_Administrator"], records)
    assert alert["change_count"] == 3
    assert alert["object_types"] == ["Profiles", "Skills", "Users"]
    assert (alert["first_change"], alert["last_change"]) == ("2026-11-23T11:40:00Z", "2026-11-23T11:59:00Z")
    assert alert["originatorLoginName"] == "LPA_jsmith"


def test_mass_deletion_threshold_counts_one_originator() -> None:
    """
    Given ten deletions by one originator and five by another, in the window
    When the mass-deletion rule runs
    Then only the first is reported, with its count
    """
    records = [deleted("Users", f"a{n}") for n in range(10)]
    records += [deleted("Skills", f"s{n}", originatorLoginName="jordan.ops", originator="Jordan Ops") for n in range(5)]
    [alert] = run_rule(RULES["LivePerson_Mass_Deletion_Of_Users_Or_Skills"], records)
    assert (alert["originatorLoginName"], alert["deletion_count"], alert["object_types"]) == ("alex.admin", 10, ["Users"])


def alert_variables(rule: dict[str, Any]) -> set[str]:
    """The result columns a rule's alert refers to: $variables, mapped alert fields and suppression fields."""
    texts = [rule["alert_name"], rule["alert_description"], rule.get("investigation_query_link", "")]
    names = {name for text in texts for name in VARIABLE.findall(text)}
    return names | set((rule.get("alert_fields") or {}).values()) | set(rule["suppression_fields"].split(","))


@pytest.mark.parametrize("name", sorted(RULES))
def test_rule_reads_only_dataset_fields_and_names_only_its_columns(name: str) -> None:
    """
    Given a rule's query
    When the columns each stage reads are checked
    Then it reads the collector's dataset, only fields the dataset has (or the query made), and each column its
    alert refers to is one the query returns
    """
    rule = RULES[name]
    query = parse_query(rule["xql_query"])
    assert query.dataset == DATASET
    assert check_columns(query, DATASET_FIELDS) <= DATASET_FIELDS
    _, records, _ = FIRES[name][0]
    assert alert_variables(rule) <= set(run_rule(rule, records)[0])


@pytest.mark.parametrize("path", RULE_FILES, ids=[path.stem for path in RULE_FILES])
def test_rule_settings_a_soc_relies_on(path: Path) -> None:
    """
    Given a rule file
    When its settings are read
    Then it is named after the pack, has a severity, MITRE tactics and techniques, suppression on a column, a
    schedule with a search window, and a description that says what it catches and its likely false positives
    """
    rule = RULES[path.stem]
    assert path.stem.startswith("LivePerson_")
    assert rule["global_rule_id"] == rule["name"]
    assert rule["name"].startswith("LivePerson - ")
    assert rule["severity"] in SEVERITIES
    assert rule["dataset"] == "alerts"
    assert rule["execution_mode"] == "SCHEDULED"
    assert parse_duration(rule["search_window"]) >= timedelta(minutes=20)  # covers the 10-minute schedule and ingestion
    assert rule["crontab"] == "*/10 * * * *"
    assert rule["suppression_enabled"] is True
    assert parse_duration(rule["suppression_duration"]) > parse_duration(rule["search_window"])  # overlaps stay quiet
    assert rule["mitre_defs"]
    for tactic, techniques in rule["mitre_defs"].items():
        assert MITRE_TACTIC.fullmatch(tactic)
        assert techniques and all(MITRE_TECHNIQUE.fullmatch(technique) for technique in techniques)
    assert "Catches" in rule["description"] and "false positives" in rule["description"].lower()
    assert rule["fromversion"] == "8.4.0"


def test_evaluator_refuses_what_it_does_not_know() -> None:
    """
    Given queries with a stage, a function, an aggregation and an operator the evaluator does not implement
    When they are parsed and run
    Then each one fails instead of being guessed at
    """
    with pytest.raises(XQLError, match="stage 'dedup'"):
        parse_query(f"dataset = {DATASET} | dedup objectName")
    with pytest.raises(XQLError, match="aggregation sum"):
        parse_query(f"dataset = {DATASET} | comp sum(x) as y")
    with pytest.raises(XQLError, match="unexpected"):
        parse_query(f'dataset = {DATASET} | filter objectType ~= "Us.*"')
    with pytest.raises(XQLError, match="found '>'"):
        parse_query(f"dataset = {DATASET} | comp count() as n by objectType | filter n > 9")
    with pytest.raises(XQLError, match="function json_extract"):
        run_query(parse_query(f'dataset = {DATASET} | filter json_extract(objectType, "$.a") = "b"'), [{"objectType": "x"}])
    with pytest.raises(XQLError, match="do not exist"):
        check_columns(parse_query(f"dataset = {DATASET} | comp count() as n by objectType | filter element = 1"), DATASET_FIELDS)


def test_evaluator_follows_xql_null_semantics() -> None:
    """
    Given rows where a field is null
    When filters compare it
    Then a comparison with null keeps no row either way, and `= null` / `!= null` test for null
    """
    rows: list[dict[str, Any]] = [{"element": None}, {"element": "Skills"}]

    def kept(condition: str) -> list[Any]:
        return [row["element"] for row in run_query(parse_query(f"dataset = {DATASET} | filter {condition}"), rows)]

    assert kept('element = "Skills"') == ["Skills"]
    assert kept('element != "Skills"') == []
    assert kept('not (element contains "Sk")') == []
    assert kept("element = null") == [None]
    assert kept("element != null") == ["Skills"]
    assert kept('element = null or element contains "Sk"') == [None, "Skills"]


def test_pack_readme_lists_every_rule_with_its_severity_and_techniques() -> None:
    """
    Given the pack README
    When its correlation-rule table is read
    Then each rule of the pack has a row with its name, its severity and its MITRE technique IDs
    """
    lines = (PACK / "README.md").read_text().splitlines()
    severity_words = {"SEV_020_LOW": "Low", "SEV_030_MEDIUM": "Medium", "SEV_040_HIGH": "High", "SEV_050_CRITICAL": "Critical"}
    for rule in RULES.values():
        [row] = [line for line in lines if line.startswith(f"| {rule['name']} |")]
        assert f"| {severity_words[rule['severity']]} |" in row
        techniques = {technique.split(" - ")[0] for listed in rule["mitre_defs"].values() for technique in listed}
        assert all(technique in row for technique in techniques)


def test_the_module_names_exactly_the_rules_that_filter_on_action_type() -> None:
    """
    Given the pack's correlation rules and the module's ACTION_TYPE_RULES (the rules it names when the Audit Trail has
    no actionType field)
    When each rule's XQL is split into its stages
    Then the rules with a filter stage on actionType are exactly that list, and every rule whose XQL reads actionType
    says in its description what happens without the field
    """
    import LivePersonAuditTrail  # noqa: PLC0415 - the platform's import path is set by conftest

    filtering, reading = set(), set()
    for rule in RULES.values():
        stages = [stage.strip() for stage in re.split(r"\n\s*\|", rule["xql_query"])]
        if any(stage.startswith("filter") and re.search(r"\bactionType\b", stage) for stage in stages):
            filtering.add(rule["name"])
        if re.search(r"\bactionType\b", rule["xql_query"] + rule.get("alert_description", "")):
            reading.add(rule["name"])
    assert filtering == set(LivePersonAuditTrail.ACTION_TYPE_RULES)
    described = {rule["name"] for rule in RULES.values() if "actionType" in rule["description"]}
    assert described == reading and filtering < reading
