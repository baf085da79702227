"""The XDM modeling rule matches what the module sends: schema, .xif and test data.

The .xif is read by a small evaluator of the XQL it uses (field names, string literals, `=`, `if`, `coalesce`,
`concat` and XDM_CONST names), so the test data's expected values are checked against the rule, not copied from it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from LivePersonAuditTrail import AUDIT_FIELDS, record_time, to_event

PACK = Path(__file__).resolve().parent.parent / "Packs" / "LivePerson"
RULE = PACK / "ModelingRules" / "LivePersonAuditTrail"
MANIFEST = yaml.safe_load((PACK / "Integrations" / "LivePersonAuditTrail" / "LivePersonAuditTrail.yml").read_text())
DATASET = "liveperson_liveengage_raw"
SCHEMA: dict[str, dict[str, Any]] = json.loads((RULE / "LivePersonAuditTrail_schema.json").read_text())[DATASET]
XIF = (RULE / "LivePersonAuditTrail.xif").read_text()
TEST_DATA = json.loads((RULE / "LivePersonAuditTrail_testdata.json").read_text())["data"]

SCHEMA_TYPES = {"String": "string", "Boolean": "boolean", "Number": "int", "Date": "datetime"}
PYTHON_TYPES = {"string": str, "boolean": bool, "int": int, "float": float}
# The values of the XDM_CONST names the rule uses, as the data model stores them.
XDM_CONST = {"OUTCOME_SUCCESS": "SUCCESS", "PRIVILEGE_LEVEL_ADMIN": "ADMIN"}
KEYWORDS = {"null": None, "true": True, "false": False}
# `changeDate` is not mapped to an XDM field: the module sends it parsed, in UTC, as `_time`, which the data model keeps.
TIME_FIELD = "changeDate"

TOKEN = re.compile(r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<name>[A-Za-z_][\w.]*)|(?P<punct>[(),=;]))')


def tokenize(text: str) -> list[tuple[str, str]]:
    text = re.sub(r"//[^\n]*", "", text)
    tokens, position = [], 0
    while text[position:].strip():
        match = TOKEN.match(text, position)
        assert match, f"unexpected XQL at: {text[position : position + 30]!r}"
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class Parser:
    """`alter name = expression, ...;` with expression := literal | name | name(arguments) | expression = expression."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.position = tokens, 0

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.tokens[self.position]
        assert value is None or token[1] == value, f"expected {value!r}, found {token[1]!r}"
        self.position += 1
        return token

    def peek(self) -> str:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else ""

    def assignments(self) -> dict[str, Any]:
        self.take("alter")
        result = {}
        while True:
            _, target = self.take()
            self.take("=")
            result[target] = self.expression()
            if self.take()[1] == ";":
                return result

    def expression(self) -> Any:
        left = self.operand()
        if self.peek() == "=":
            self.take("=")
            return ("=", left, self.operand())
        return left

    def operand(self) -> Any:
        kind, value = self.take()
        if kind == "string":
            return ("literal", json.loads(value))
        if self.peek() == "(":
            self.take("(")
            arguments = [self.expression()]
            while self.take()[1] == ",":
                arguments.append(self.expression())
            return (value, *arguments)
        return ("name", value)


def parse_rule(xif: str) -> tuple[str, dict[str, Any]]:
    header = re.match(r"\s*\[MODEL:\s*dataset=(\w+)\]", xif)
    assert header, "the .xif starts with [MODEL: dataset=...]"
    return header.group(1), Parser(tokenize(xif[header.end() :])).assignments()


def evaluate(node: Any, event: dict[str, Any]) -> Any:
    kind, *arguments = node
    if kind == "literal":
        return arguments[0]
    if kind == "name":
        name = arguments[0]
        if name in KEYWORDS:
            return KEYWORDS[name]
        if name.startswith("XDM_CONST."):
            return XDM_CONST[name.removeprefix("XDM_CONST.")]
        return event.get(name)
    values = [evaluate(argument, event) for argument in arguments]
    if kind == "=":
        return values[0] == values[1]
    if kind == "if":
        return values[1] if values[0] else (values[2] if len(values) > 2 else None)
    if kind == "coalesce":
        return next((value for value in values if value is not None), None)
    if kind == "concat":
        return None if None in values else "".join(str(value) for value in values)
    raise AssertionError(f"the evaluator does not know the XQL function {kind}()")


def referenced_fields(node: Any) -> set[str]:
    kind, *arguments = node
    if kind == "name":
        name = arguments[0]
        return set() if name.startswith("XDM_CONST.") or name in KEYWORDS else {name}
    if kind == "literal":
        return set()
    return set().union(*(referenced_fields(argument) for argument in arguments))


DATASET_OF_RULE, MAPPING = parse_rule(XIF)


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
    event = to_event(record, record_time(record))
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
    _, mapping = parse_rule("[MODEL: dataset=x]\nalter xdm.event.type = lowercase(objectType);")
    with pytest.raises(AssertionError, match="lowercase"):
        evaluate(mapping["xdm.event.type"], {"objectType": "A"})
