"""The XDM modeling rule matches what the module sends: schema, .xif and test data.

The .xif is read by the pack's small XQL evaluator (Tests/xql.py), so the test data's expected values are checked
against the rule, not copied from it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from LivePersonAuditTrail import AUDIT_FIELDS, make_entries

from Tests.xql import XQLError, evaluate, parse_model, referenced_fields

PACK = Path(__file__).resolve().parent.parent / "Packs" / "LivePerson"
RULE = PACK / "ModelingRules" / "LivePersonAuditTrail"
MANIFEST = yaml.safe_load((PACK / "Integrations" / "LivePersonAuditTrail" / "LivePersonAuditTrail.yml").read_text())
DATASET = "liveperson_liveengage_raw"
SCHEMA: dict[str, dict[str, Any]] = json.loads((RULE / "LivePersonAuditTrail_schema.json").read_text())[DATASET]
XIF = (RULE / "LivePersonAuditTrail.xif").read_text()
TEST_DATA = json.loads((RULE / "LivePersonAuditTrail_testdata.json").read_text())["data"]

SCHEMA_TYPES = {"String": "string", "Boolean": "boolean", "Number": "int", "Date": "datetime"}
PYTHON_TYPES = {"string": str, "boolean": bool, "int": int, "float": float}
# `changeDate` is not mapped to an XDM field: the module sends it parsed, in UTC, as `_time`, which the data model keeps.
TIME_FIELD = "changeDate"

DATASET_OF_RULE, MAPPING = parse_model(XIF)


def emitted_types() -> dict[str, str]:
    """The fields the module sends, with their types as the manifest declares them for the same events."""
    prefix = "LivePerson.AuditEvent."
    outputs = MANIFEST["script"]["commands"][0]["outputs"]
    return {
        output["contextPath"].removeprefix(prefix): SCHEMA_TYPES[output["type"]]
        for output in outputs
        if output["contextPath"].startswith(prefix)
    }


def test_schema_lists_exactly_the_fields_the_module_sends_with_their_types() -> None:
    """
    Given the modeling rule's schema, the module's audit fields and the manifest's output types
    When they are compared
    Then the schema has each field the module sends, with its type, and nothing else (`_time` is the dataset's own)
    """
    types = emitted_types()
    assert set(types) == {*AUDIT_FIELDS, "_time"}
    assert {name: spec["type"] for name, spec in SCHEMA.items()} == {name: types[name] for name in AUDIT_FIELDS}
    assert all(spec["is_array"] is False for spec in SCHEMA.values())


def test_rule_reads_only_schema_fields_and_maps_all_of_them() -> None:
    """
    Given the parsed .xif
    When the raw fields it reads are collected
    Then it reads its dataset, only schema fields, and every schema field but changeDate (which is `_time`)
    """
    assert DATASET_OF_RULE == DATASET
    read = set().union(*(referenced_fields(expression) for expression in MAPPING.values()))
    assert read <= set(SCHEMA)
    assert read == set(SCHEMA) - {TIME_FIELD}
    assert all(target.startswith("xdm.") for target in MAPPING)


def test_every_user_field_has_its_identity_twin() -> None:
    """
    Given the XDM fields the rule sets
    When the xdm.source.user.* ones are listed
    Then each has the xdm.source.identity.* twin set from the same field, as the validator's pairing rule asks
    """
    users = {target for target in MAPPING if ".user." in target}
    assert users
    for target in users:
        assert MAPPING[target.replace(".user.", ".identity.", 1)] == MAPPING[target]


@pytest.mark.parametrize("case", TEST_DATA, ids=[case["event_data"]["changeDate"] for case in TEST_DATA])
def test_test_data_is_what_the_module_sends_and_what_the_rule_makes_of_it(case: dict[str, Any]) -> None:
    """
    Given a test-data record of the modeling rule
    When the module turns its raw record into an event, and the .xif is evaluated on that event
    Then the event data is the event the module sends (with the schema's types), and the expected values are the rule's
    """
    assert (case["vendor"], case["product"], case["dataset"]) == ("liveperson", "liveengage", DATASET)
    record = case["event_data"]
    assert set(record) == set(AUDIT_FIELDS)
    event = make_entries([record])[0].event()
    assert {key: value for key, value in event.items() if key != "_time"} == record
    for name, value in record.items():
        assert isinstance(value, PYTHON_TYPES[SCHEMA[name]["type"]]), name

    actual = {"_time": event["_time"], **{target: evaluate(expression, event) for target, expression in MAPPING.items()}}
    assert case["expected_values"] == actual


def test_test_data_covers_lpa_and_regular_users() -> None:
    """
    Given the test data
    When its records are grouped by who made the change
    Then both a LivePerson administrator (LPA) and an account user appear
    """
    assert {case["event_data"]["originatorIsLpa"] for case in TEST_DATA} == {True, False}


def test_evaluator_rejects_xql_it_does_not_know() -> None:
    """
    Given an expression with a function the evaluator does not implement
    When it is evaluated
    Then it fails instead of guessing
    """
    _, mapping = parse_model("[MODEL: dataset=x]\nalter xdm.event.type = arrayindex(objectType, 0);")
    with pytest.raises(XQLError, match="arrayindex"):
        evaluate(mapping["xdm.event.type"], {"objectType": "A"})


def test_test_data_looks_like_the_documented_response_with_its_odd_cases() -> None:
    """
    Given the test data
    When its records are read
    Then they carry display-name object types, "N/A" elements with empty values, `.0` times, and the odd cases a
    collector must carry unchanged: quotes, unicode, a newline, a very long value and identical records in one second
    """
    records = [case["event_data"] for case in TEST_DATA]
    assert all(not record["objectType"].startswith("AC") for record in records)
    assert {"Users", "Profiles", "Predefined Content", "Agent Groups"} <= {record["objectType"] for record in records}
    assert any(record["element"] == "N/A" and record["oldValue"] == record["newValue"] == "" for record in records)
    assert all(record["changeDate"].endswith(".0") for record in records)
    values = [str(value) for record in records for value in record.values()]
    assert any('"' in value for value in values)
    assert any(not value.isascii() for value in values)
    assert any("\n" in value for value in values)
    assert any(len(value) > 1000 for value in values)
    assert any(records.count(record) > 1 for record in records)


@pytest.mark.parametrize("case", TEST_DATA, ids=[case["event_data"]["changeDate"] for case in TEST_DATA])
def test_event_description_is_a_sentence(case: dict[str, Any]) -> None:
    """
    Given a test-data record
    When the rule writes its xdm.event.description
    Then it reads as a sentence: who, the action as a verb, the element unless it is "N/A", the object and its type
    """
    record = case["event_data"]
    description = case["expected_values"]["xdm.event.description"]
    verb = {"Add new": "added", "Delete": "deleted"}.get(record["actionType"], "changed")
    element = "" if record["element"] == "N/A" else f"{record['element']} of "
    assert description == f"{record['originator']} {verb} {element}{record['objectName']} ({record['objectType']})"
