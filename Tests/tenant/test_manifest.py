"""The user's values checked against the integration's manifest: the mapping to typed values and every refusal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from Tests.tenant.manifest import (
    MANIFEST,
    ConfigurationError,
    Manifest,
    check_values,
    load_params_file,
    missing_required,
    parse_assignments,
    read_secret,
)


def write_manifest(folder: Path, configuration: list[dict[str, Any]]) -> Manifest:
    document = {
        "commonfields": {"id": "Sample"},
        "name": "Sample",
        "display": "Sample",
        "configuration": configuration,
        "script": {"commands": [{"name": "sample-get"}]},
    }
    path = folder / "Sample.yml"
    path.write_text(yaml.safe_dump(document))
    return Manifest.load(path)


@pytest.fixture
def manifest() -> Manifest:
    return Manifest.load()


@pytest.fixture
def every_type(tmp_path: Path) -> Manifest:
    """A manifest with one parameter of each type the platform knows."""
    return write_manifest(
        tmp_path,
        [
            {"name": "url", "display": "URL", "type": 0, "required": True},
            {"name": "limit", "display": "Limit", "type": 1},
            {"name": "token", "display": "API token", "type": 4, "required": True},
            {"name": "verbose", "display": "Verbose", "type": 8},
            {"name": "login", "display": "Username", "displaypassword": "Password", "type": 9, "required": True},
            {"name": "notes", "display": "Notes", "type": 12},
            {"name": "region", "display": "Region", "type": 15, "options": ["us", "eu"]},
            {"name": "kinds", "display": "Kinds", "type": 16, "options": ["a", "b", "c"]},
            {"name": "interval", "display": "Interval", "type": 19, "defaultvalue": "1"},
            {"name": "internal", "display": "Internal", "type": 0, "hidden": True},
        ],
    )


def refusal(manifest: Manifest, given: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigurationError) as raised:
        check_values(manifest, given)
    return raised.value.problems


# ------------------------------------------------------------------ the manifest, read at run time


def test_parameters_are_read_from_the_manifest(manifest: Manifest) -> None:
    """
    Given the integration's manifest in this checkout
    When it is loaded
    Then every parameter comes with the name, type and required flag the YAML declares, and its commands are listed
    """
    document = yaml.safe_load(MANIFEST.read_text())
    assert manifest.integration_id == document["commonfields"]["id"]
    assert [(p.name, p.type, p.required) for p in manifest.parameters] == [
        (entry["name"], entry["type"], entry.get("required", False)) for entry in document["configuration"]
    ]
    assert manifest.commands == tuple(command["name"] for command in document["script"]["commands"])


@pytest.mark.parametrize(
    ("name", "key", "variable"),
    [
        ("api_key_credentials", "app_key", "LIVEPERSON_SECRET"),
        ("access_token_credentials", "access_token", "LIVEPERSON_ACCESS_TOKEN_SECRET"),
        ("credentials", "client_id", "LIVEPERSON_CLIENT_SECRET"),
    ],
)
def test_credentials_keys_and_secret_variable_come_from_the_displays(
    manifest: Manifest, name: str, key: str, variable: str
) -> None:
    """
    Given each credentials parameter (App key / Secret, Access token / Access token secret, Client ID / Client secret)
    When its keys are derived
    Then the identifier is typed under its display in snake case, and the secret comes from the variable named after
    the password's display
    """
    credentials = manifest.parameter(name)
    assert credentials is not None and credentials.type == 9
    assert credentials.identifier_key == key
    assert credentials.secret_variable == variable
    assert check_values(manifest, {key: "my-app"}) == {name: {"identifier": "my-app"}}


def test_required_flags_are_read_from_the_manifest_not_hard_coded(tmp_path: Path) -> None:
    """
    Given the manifest, where auth_server_url is optional (the Sentinel host is found), and a copy where it is required
    When the required parameters are checked without it
    Then only the copy reports it missing: required flags are read, not hard-coded
    """
    values = {"account_id": "123", "credentials": {"identifier": "app"}}
    assert missing_required(Manifest.load(), {**values, "auth_server_url": ""}) == []
    document = yaml.safe_load(MANIFEST.read_text())
    for entry in document["configuration"]:
        if entry["name"] == "auth_server_url":
            entry.update(required=True)
    path = tmp_path / "LivePersonAuditTrail.yml"
    path.write_text(yaml.safe_dump(document))
    assert missing_required(Manifest.load(path), {**values, "auth_server_url": ""}) == [
        "missing required parameter auth_server_url (Authorization server (Sentinel) host)"
    ]


# ------------------------------------------------------------------ typed values


def test_values_are_typed_as_the_manifest_declares(every_type: Manifest) -> None:
    """
    Given command-line strings for a parameter of each type
    When they are checked
    Then booleans become booleans, numbers and intervals canonical digits, multi selects lists, the rest text
    """
    given = {
        "url": "https://example.test",
        "limit": "0042",
        "verbose": "TRUE",
        "username": "svc",
        "notes": "a|b",
        "region": "eu",
        "kinds": "a, c",
        "interval": "5",
    }
    assert check_values(every_type, given) == {
        "url": "https://example.test",
        "limit": "42",
        "verbose": True,
        "login": {"identifier": "svc"},
        "notes": "a|b",
        "region": "eu",
        "kinds": ["a", "c"],
        "interval": "5",
    }


def test_params_file_values_keep_their_json_types(every_type: Manifest) -> None:
    """
    Given values from a JSON params file: a boolean, a number for a text parameter, a list, credentials without secret
    When they are checked
    Then they are accepted in those shapes
    """
    given = {"verbose": False, "url": 8080, "kinds": ["b"], "login": {"identifier": "svc"}}
    assert check_values(every_type, given) == {
        "verbose": False,
        "url": "8080",
        "kinds": ["b"],
        "login": {"identifier": "svc"},
    }


def test_an_empty_value_clears_an_optional_setting(manifest: Manifest) -> None:
    """
    Given empty values for optional text parameters
    When they are checked
    Then they are kept empty (the instance then has no value for them)
    """
    assert check_values(manifest, {"users": "", "component_types": ""}) == {"users": "", "component_types": ""}


# ------------------------------------------------------------------ refusals


def test_an_unknown_name_is_refused_with_the_closest_known_one(manifest: Manifest) -> None:
    """
    Given a misspelt parameter name
    When the values are checked
    Then it is refused, naming the close match and listing the known parameters
    """
    [problem] = refusal(manifest, {"acount_id": "1"})
    assert problem.startswith("unknown parameter 'acount_id' (did you mean account_id?)")
    assert "first_fetch" in problem and "client_id" in problem


def test_a_hidden_parameter_cannot_be_set(every_type: Manifest) -> None:
    """
    Given a parameter the manifest hides
    When a value is given for it
    Then it is refused as unknown
    """
    [problem] = refusal(every_type, {"internal": "x"})
    assert problem.startswith("unknown parameter 'internal'")


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("verbose", "maybe", "verbose is a boolean: true or false, not 'maybe'"),
        ("verbose", "1", "verbose is a boolean: true or false, not '1'"),
        ("limit", "ten", "limit takes number: a whole number, not 'ten'"),
        ("limit", True, "limit takes number: a whole number, not True"),
        ("interval", "0", "interval takes fetch interval (minutes): a whole number of at least 1, not '0'"),
        ("region", "apac", "region must be one of us, eu, not 'apac'"),
        ("kinds", "a,z", "kinds takes some of a, b, c; not z"),
        ("url", ["x"], "url takes short text, not list ['x']"),
        ("notes", {"a": 1}, "notes takes long text, not dict {'a': 1}"),
        ("username", 7, "username is the Username: text, not int"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_naming_it(every_type: Manifest, key: str, value: Any, expected: str) -> None:
    """
    Given a value that does not fit its parameter's type
    When the values are checked
    Then it is refused with a message naming the parameter and the expected type
    """
    assert refusal(every_type, {key: value}) == [expected]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("client_secret", "s3cr3t-value"),
        ("credentials.password", "s3cr3t-value"),
        ("credentials", {"identifier": "app", "password": "s3cr3t-value"}),
    ],
)
def test_the_client_secret_is_refused_on_the_command_line_and_in_files(manifest: Manifest, key: str, value: Any) -> None:
    """
    Given the client secret among the values, under any of the names it could go by
    When the values are checked
    Then it is refused, pointing at LIVEPERSON_CLIENT_SECRET, and the refusal does not repeat the secret
    """
    [problem] = refusal(manifest, {key: value})
    assert "never goes on the command line" in problem and "LIVEPERSON_CLIENT_SECRET" in problem
    assert "s3cr3t-value" not in problem


def test_an_encrypted_parameter_is_refused_as_a_value(every_type: Manifest) -> None:
    """
    Given a value for an encrypted (type 4) parameter
    When the values are checked
    Then it is refused, pointing at its own environment variable
    """
    [problem] = refusal(every_type, {"token": "abc"})
    assert "LIVEPERSON_API_TOKEN" in problem


def test_every_problem_is_reported_at_once(manifest: Manifest) -> None:
    """
    Given an unknown name, a wrong type and a secret in one configure
    When the values are checked
    Then all three are named in one refusal, in the order given
    """
    problems = refusal(manifest, {"acount_id": "1", "lpa": "maybe", "client_secret": "x"})
    assert [problem.split(" ")[0] for problem in problems] == ["unknown", "lpa", "client_secret:"]


def test_words_without_an_equals_sign_are_refused() -> None:
    """
    Given command-line words, one of them not key=value
    When they are parsed
    Then the good ones are kept (a value may hold '=') and the bad one is refused by name
    """
    assert parse_assignments(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(ConfigurationError, match="'lpa' is not key=value"):
        parse_assignments(["a=1", "lpa"])


@pytest.mark.parametrize(
    ("content", "expected"),
    [("{not json", "is not JSON"), ('["a"]', "must hold a JSON object"), (None, "cannot read the params file")],
)
def test_a_bad_params_file_is_refused(tmp_path: Path, content: str | None, expected: str) -> None:
    """
    Given a params file that is not JSON, not an object, or missing
    When it is read
    Then it is refused saying which
    """
    path = tmp_path / "params.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigurationError, match=expected):
        load_params_file(path)


def test_a_params_file_is_read(tmp_path: Path) -> None:
    """
    Given a JSON object in a file
    When it is read
    Then its values come back as written
    """
    path = tmp_path / "params.json"
    path.write_text(json.dumps({"lpa": False, "account_id": "123"}))
    assert load_params_file(path) == {"lpa": False, "account_id": "123"}


# ------------------------------------------------------------------ required values and the secret


def test_missing_required_parameters_are_named(manifest: Manifest) -> None:
    """
    Given no values at all
    When the required parameters are checked
    Then the account ID and a way in are missing (any one of the credentials, none required alone); the Sentinel host
    is not (the manifest gives it a default)
    """
    no_way_in = "missing credentials: give one way in, of app_key (App key), access_token (Access token), client_id (Client ID)"
    assert missing_required(manifest, {}) == ["missing required parameter account_id (Account ID)", no_way_in]
    assert missing_required(manifest, {"account_id": "1", "credentials": {"identifier": ""}}) == [no_way_in]
    assert missing_required(manifest, {"account_id": "1", "api_key_credentials": {"identifier": "key"}}) == []


def test_the_secret_comes_from_the_environment_then_the_prompt(manifest: Manifest) -> None:
    """
    Given the credentials parameter
    When its secret is read with and without LIVEPERSON_CLIENT_SECRET, with and without a prompt
    Then the variable wins, the prompt is asked otherwise, and with neither it is refused naming the variable
    """
    credentials = manifest.parameter("credentials")
    assert credentials is not None
    asked: list[str] = []

    def prompt(text: str) -> str:
        asked.append(text)
        return "typed"

    assert read_secret(credentials, {"LIVEPERSON_CLIENT_SECRET": "from-env"}, prompt) == "from-env"
    assert asked == []
    assert read_secret(credentials, {}, prompt) == "typed"
    assert asked == ["Client secret for credentials (input hidden): "]
    with pytest.raises(ConfigurationError, match="set LIVEPERSON_CLIENT_SECRET"):
        read_secret(credentials, {}, None)
