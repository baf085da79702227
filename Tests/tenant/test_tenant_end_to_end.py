"""`python3 -m Tests tenant ...` end to end: demisto-py against the fake tenant, whose engine runs the uploaded
integration against the fake LivePerson. upload -> configure -> test -> run -> status, offline."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from Tests.fake_liveperson import FakeLivePerson
from Tests.tenant import cli
from Tests.tenant.fake_tenant import FakeTenant
from Tests.tenant.manifest import Manifest

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore::DeprecationWarning:demisto_client.demisto_api.rest")]
NAME = "LivePerson_1"


@pytest.fixture
def uploaded(tool: Any, plain_zip: Path) -> None:
    assert tool("upload", "--zip", str(plain_zip)).code == 0


@pytest.fixture
def configured(tool: Any, uploaded: None, endpoints: list[str]) -> None:
    outcome = tool("configure", "--name", NAME, *endpoints, "isFetchEvents=true", "first_fetch=2 days")
    assert outcome.code == 0, outcome.text


def saved_bodies(tenant: FakeTenant) -> list[dict[str, Any]]:
    return [request.body for request in tenant.requests if request.method == "PUT"]


def data_of(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in body["data"]}


# ------------------------------------------------------------------ upload


def test_upload_puts_the_integration_on_the_tenant(tool: Any, tenant: FakeTenant, plain_zip: Path) -> None:
    """
    Given a pack zip
    When it is uploaded
    Then the tenant holds the integration with the manifest's parameters, the upload asked to skip the signature
    check (the pack is not signed), and the tool reports what arrived
    """
    outcome = tool("upload", "--zip", str(plain_zip))
    assert outcome.code == 0, outcome.text
    manifest = Manifest.load()
    configuration = tenant.configurations[manifest.integration_id]
    assert [parameter["name"] for parameter in configuration["configuration"]] == [p.name for p in manifest.parameters]
    [upload] = [request for request in tenant.requests if request.path == "/contentpacks/installed/upload"]
    assert upload.body == {"fields": {"skipVerify": "true"}, "files": ["file"]}
    assert f"uploaded: LivePerson Audit Trail ({manifest.integration_id}), {len(manifest.parameters)} parameters" in outcome.out


def test_upload_without_the_sdk_or_a_zip_says_how_to_get_one(tool: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """
    Given no demisto-sdk in .venv-sdk and no --zip
    When upload runs
    Then it fails before sending anything, saying to install the SDK with `bash .ci/lint config` or to pass --zip
    """
    monkeypatch.setattr("Tests.tenant.packaging.SDK", tmp_path / "no-sdk")
    outcome = tool("upload")
    assert outcome.code == 1
    assert "demisto-sdk is not installed" in outcome.err and "bash .ci/lint config" in outcome.err
    assert "Traceback" not in outcome.text


# ------------------------------------------------------------------ configure


def test_configure_creates_the_instance_the_manifest_describes(
    tool: Any, tenant: FakeTenant, liveperson: FakeLivePerson, uploaded: None, endpoints: list[str]
) -> None:
    """
    Given the uploaded integration and the settings for the fake LivePerson
    When an instance is configured
    Then the tenant got one document with every parameter of the manifest once, the given values typed, the client
    secret from LIVEPERSON_CLIENT_SECRET in the credentials shape, and the output shows no secret
    """
    outcome = tool("configure", "--name", NAME, *endpoints, "isFetchEvents=true", "lpa=false", "max_fetch=700")
    assert outcome.code == 0, outcome.text
    [body] = saved_bodies(tenant)
    items = data_of(body)
    assert list(items) == [parameter.name for parameter in Manifest.load().parameters]
    assert items["credentials"]["value"] == {
        "credential": "",
        "identifier": liveperson.client_id,
        "password": liveperson.client_secret,
        "passwordChanged": False,
    }
    assert (items["isFetchEvents"]["value"], items["lpa"]["value"], items["max_fetch"]["value"]) == (True, False, "700")
    assert items["account_id"]["hasvalue"] and not items["page_size"]["hasvalue"]
    assert f"created instance {NAME}" in outcome.out
    assert liveperson.client_secret not in outcome.text


def test_configure_refuses_bad_values_before_sending_anything(tool: Any, tenant: FakeTenant, uploaded: None) -> None:
    """
    Given a misspelt name, a wrong type and the secret on the command line
    When configure runs
    Then all three are named, without a traceback, and the tenant got no request for it
    """
    before = len(tenant.requests)
    outcome = tool("configure", "--name", NAME, "acount_id=1", "lpa=maybe", "client_secret=abcd1234")
    assert outcome.code == 1
    assert "did you mean account_id?" in outcome.err and "lpa is a boolean" in outcome.err
    assert "LIVEPERSON_CLIENT_SECRET" in outcome.err and "abcd1234" not in outcome.text
    assert len(tenant.requests) == before


def test_configure_names_missing_required_parameters(tool: Any, tenant: FakeTenant, uploaded: None) -> None:
    """
    Given a new instance without the account ID or any credentials
    When configure runs
    Then both are named (the credentials as the ways in to choose from) and nothing is saved
    """
    outcome = tool("configure", "--name", NAME, "lpa=true")
    assert outcome.code == 1
    assert "missing required parameter account_id (Account ID)" in outcome.err
    assert "missing credentials: give one way in, of app_key (App key), access_token (Access token), client_id" in outcome.err
    assert saved_bodies(tenant) == []


def test_configure_before_upload_says_upload_first(tool: Any, endpoints: list[str]) -> None:
    """
    Given a tenant without the integration
    When configure runs
    Then it says the integration is not there and to upload the pack first
    """
    outcome = tool("configure", "--name", NAME, *endpoints)
    assert outcome.code == 1
    assert "is not on the tenant" in outcome.err and "python3 -m Tests tenant upload" in outcome.err


def test_configure_without_the_secret_asks_for_it(
    tool: Any, tenant: FakeTenant, liveperson: FakeLivePerson, uploaded: None, endpoints: list[str]
) -> None:
    """
    Given no LIVEPERSON_CLIENT_SECRET
    When configure runs without a terminal, then with one
    Then without it is refused naming the variable; with it the typed secret goes into the instance
    """
    refused = tool("configure", "--name", NAME, *endpoints, LIVEPERSON_CLIENT_SECRET="")
    assert refused.code == 1 and "set LIVEPERSON_CLIENT_SECRET" in refused.err
    asked = tool("configure", "--name", NAME, *endpoints, LIVEPERSON_CLIENT_SECRET="", prompt=lambda _: liveperson.client_secret)
    assert asked.code == 0, asked.text
    assert data_of(saved_bodies(tenant)[-1])["credentials"]["value"]["password"] == liveperson.client_secret


def test_configure_again_updates_in_place_keeping_what_is_not_given(tool: Any, tenant: FakeTenant, configured: None) -> None:
    """
    Given a configured instance
    When configure runs again with only one new value
    Then the same instance (id, stored version) is updated: the other values are kept, the secret is sent again
    """
    [first] = tenant.instances.values()
    outcome = tool("configure", "--name", NAME, "max_fetch=900")
    assert outcome.code == 0, outcome.text
    body = saved_bodies(tenant)[-1]
    assert (body["id"], body["version"]) == (first["id"], 1)
    items = data_of(body)
    assert items["max_fetch"]["value"] == "900" and items["first_fetch"]["value"] == "2 days"
    assert items["credentials"]["value"]["passwordChanged"] is True
    [updated] = tenant.instances.values()
    assert updated["version"] == 2 and f"updated instance {NAME}" in outcome.out


def test_configure_refuses_a_tenant_with_another_version(
    tool: Any, tenant: FakeTenant, uploaded: None, endpoints: list[str]
) -> None:
    """
    Given a tenant whose copy of the integration lacks a parameter this manifest has
    When configure runs
    Then it names the difference and says to upload this version
    """
    configuration = tenant.configurations["LivePersonAuditTrail"]
    configuration["configuration"] = [p for p in configuration["configuration"] if p["name"] != "page_size"]
    outcome = tool("configure", "--name", NAME, *endpoints)
    assert outcome.code == 1
    assert "has no parameter page_size" in outcome.err and "upload this checkout's version" in outcome.err


# ------------------------------------------------------------------ test


def test_test_runs_the_test_module_on_the_tenant(tool: Any, tenant: FakeTenant, configured: None) -> None:
    """
    Given a configured instance pointing at the fake LivePerson
    When it is tested
    Then the tenant ran the integration's test-module for real, and the verdict is success
    """
    outcome = tool("test", NAME)
    assert outcome.code == 0, outcome.text
    assert f"test {NAME}: success" in outcome.out
    assert tenant.engine_runs == [(NAME, "test-module")]


def test_test_names_the_failing_stage(tool: Any, uploaded: None, endpoints: list[str], liveperson: FakeLivePerson) -> None:
    """
    Given an instance whose client secret LivePerson refuses
    When it is tested
    Then the verdict is failed, with the stage (the Sentinel token) and the integration's message, and no secret
    """
    assert tool("configure", "--name", NAME, *endpoints, LIVEPERSON_CLIENT_SECRET="wrong-secret-9").code == 0
    outcome = tool("test", NAME)
    assert outcome.code == 1
    assert "failing stage: Authentication (Sentinel token, OAuth 2.0)" in outcome.out
    assert "refused the client credentials (401)" in outcome.out and "LivePerson Sentinel at" in outcome.out
    assert "wrong-secret-9" not in outcome.text and liveperson.client_secret not in outcome.text


def api_key_settings(liveperson: FakeLivePerson) -> tuple[list[str], dict[str, str]]:
    """The settings of an instance that uses the fake's API key, and the environment its two secret halves come from."""
    app_key, secret, access_token, access_token_secret = liveperson.api_key
    settings = [f"domain_api_url={liveperson.url}", f"account_id={liveperson.account_id}"]
    settings += [f"app_key={app_key}", f"access_token={access_token}"]
    return settings, {"LIVEPERSON_SECRET": secret, "LIVEPERSON_ACCESS_TOKEN_SECRET": access_token_secret}


def test_an_api_key_instance_is_configured_tested_and_run(
    tool: Any, tenant: FakeTenant, liveperson: FakeLivePerson, uploaded: None
) -> None:
    """
    Given the fake's API key: app key and access token on the command line, their secrets in LIVEPERSON_SECRET and
    LIVEPERSON_ACCESS_TOKEN_SECRET
    When an instance is configured with it, tested, and !liveperson-get-events is run
    Then the tenant holds the API key's two credentials (the client credentials empty), the test succeeds and the
    command shows events, every Audit Trail request was signed (OAuth 1.0), and no secret is printed
    """
    settings, secrets = api_key_settings(liveperson)
    configured = tool("configure", "--name", NAME, *settings, "first_fetch=2 days", LIVEPERSON_CLIENT_SECRET="", **secrets)
    assert configured.code == 0, configured.text
    items = data_of(saved_bodies(tenant)[-1])
    app_key, secret, _, access_token_secret = liveperson.api_key
    assert (items["api_key_credentials"]["value"]["identifier"], items["api_key_credentials"]["value"]["password"]) == (
        app_key,
        secret,
    )
    assert items["access_token_credentials"]["value"]["password"] == access_token_secret
    assert items["credentials"]["value"]["identifier"] == "" and items["credentials"]["value"]["password"] == ""
    tested = tool("test", NAME)
    assert tested.code == 0 and f"test {NAME}: success" in tested.out, tested.text
    ran = tool("run", NAME, "!liveperson-get-events limit=3")
    assert ran.code == 0 and "LivePerson Audit Trail events (3)" in ran.out, ran.text
    audits = [entry for entry in liveperson.requests if entry.endpoint == "audit"]
    assert audits and {entry.auth for entry in audits} == {"oauth1"}
    assert liveperson.count("token") == 0
    printed = configured.text + tested.text + ran.text
    assert secret not in printed and access_token_secret not in printed


def test_an_instance_moves_from_client_credentials_to_an_api_key(
    tool: Any, tenant: FakeTenant, liveperson: FakeLivePerson, configured: None
) -> None:
    """
    Given an instance configured with client credentials
    When it is configured again with the API key, clearing client_id
    Then no client secret is asked for, the tenant holds the API key and empty client credentials, and the test
    succeeds with the API key; not clearing client_id is the integration's refusal of both ways in at test time
    """
    settings, secrets = api_key_settings(liveperson)
    both = tool("configure", "--name", NAME, *settings, **secrets)
    assert both.code == 0, both.text
    refused = tool("test", NAME)
    assert refused.code == 1 and "Both an API key" in refused.out and '"Client ID", "Client secret"' in refused.out
    moved = tool("configure", "--name", NAME, *settings, "client_id=", LIVEPERSON_CLIENT_SECRET="", **secrets)
    assert moved.code == 0, moved.text
    items = data_of(saved_bodies(tenant)[-1])
    assert items["credentials"]["value"]["identifier"] == "" and items["api_key_credentials"]["value"]["identifier"]
    tested = tool("test", NAME)
    assert tested.code == 0, tested.text


def test_test_of_an_unknown_instance_says_how_to_create_it(tool: Any, uploaded: None) -> None:
    """
    Given no instance of that name
    When it is tested
    Then the failure names it and says how to create one
    """
    outcome = tool("test", "nope")
    assert outcome.code == 1 and "no instance named nope" in outcome.err and "configure --name" in outcome.err


# ------------------------------------------------------------------ run


def test_run_shows_the_command_entries_as_text(tool: Any, tenant: FakeTenant, configured: None) -> None:
    """
    Given a configured instance
    When !liveperson-get-events limit=3 is run
    Then it ran in the playground on that instance (using=), and the table is printed as aligned text
    """
    outcome = tool("run", NAME, "!liveperson-get-events limit=3")
    assert outcome.code == 0, outcome.text
    [execution] = [request.body for request in tenant.requests if request.path == "/entry/execute/sync"]
    assert execution == {"investigationId": tenant.playground_id, "data": f"!liveperson-get-events limit=3 using={NAME}"}
    lines = outcome.out.splitlines()
    header = lines.index("LivePerson Audit Trail events (3)")
    assert lines[header + 1].split() == [
        "_time",
        "objectType",
        "objectName",
        "element",
        "oldValue",
        "newValue",
        "originatorLoginName",
        "actionType",
    ]
    assert set(lines[header + 2]) == {"-", " "}
    assert len([line for line in lines[header + 3 :] if line.strip()]) == 3


def test_run_raw_prints_the_entries_as_json(tool: Any, configured: None) -> None:
    """
    Given a configured instance
    When a command is run with --raw and without the leading "!"
    Then the entry comes back as JSON with its type, markdown contents and format
    """
    outcome = tool("run", NAME, "liveperson-get-events limit=1", "--raw")
    assert outcome.code == 0, outcome.text
    entry = json.loads(outcome.out.split("\n", 1)[1])
    assert entry["type"] == 1 and entry["format"] == "markdown" and entry["contents"].startswith("### LivePerson")


def test_run_reports_an_error_entry(tool: Any, configured: None) -> None:
    """
    Given a command with an argument the integration refuses
    When it is run
    Then the error entry is shown as an error and the exit code is 1
    """
    outcome = tool("run", NAME, "!liveperson-get-events limit=abc")
    assert outcome.code == 1
    assert "ERROR: Failed to execute liveperson-get-events command." in outcome.out


def test_run_refuses_a_command_the_integration_does_not_have(tool: Any, tenant: FakeTenant, configured: None) -> None:
    """
    Given a command that is not the integration's
    When it is run
    Then it is refused, listing the integration's commands, and nothing is executed
    """
    outcome = tool("run", NAME, "!fetch-everything")
    assert outcome.code == 1 and "its commands: liveperson-get-events" in outcome.err
    assert tenant.engine_runs == []


# ------------------------------------------------------------------ status


def test_status_shows_fetching_and_the_health_once_it_exists(tool: Any, tenant: FakeTenant, configured: None) -> None:
    """
    Given a fetching instance, before and after the tenant's scheduler ran one fetch
    When its status is shown
    Then fetching is on; before, the tenant reports no health; after, the pull time, the events and no error
    """
    before = tool("status", NAME)
    assert before.code == 0 and "fetching events: on (every 1 minute)" in before.out
    assert "health: the tenant reports none" in before.out
    fetched = tenant.fetch(NAME)
    assert fetched["events_sent"] > 0 and fetched["error"] is None
    after = tool("status", NAME)
    assert after.code == 0, after.text
    assert f"events pulled: {fetched['events_sent']}" in after.out and "last error: none" in after.out


# ------------------------------------------------------------------ the whole path, and what must never show


def test_cortex_xsiam_shape_end_to_end(liveperson: FakeLivePerson, plain_zip: Path, endpoints: list[str]) -> None:
    """
    Given a Cortex XSIAM-style tenant (API key with its ID, API under /xsoar)
    When upload, configure, test and run are done with XSIAM_AUTH_ID set
    Then each succeeds, every request carried the ID, and no output shows the key or the client secret
    """
    with FakeTenant(auth_id="7", tls=False, trust=liveperson.ca_bundle) as tenant:
        environment = {
            "DEMISTO_BASE_URL": tenant.url,
            "DEMISTO_API_KEY": tenant.api_key,
            "XSIAM_AUTH_ID": "7",
            "LIVEPERSON_CLIENT_SECRET": liveperson.client_secret,
        }
        printed = ""
        for argv in (
            ["upload", "--zip", str(plain_zip)],
            ["configure", "--name", NAME, *endpoints],
            ["test", NAME],
            ["run", NAME, "!liveperson-get-events limit=2"],
            ["status", NAME],
        ):
            out = io.StringIO()
            assert cli.main(argv, environment=environment, out=out, err=out) == 0, out.getvalue()
            printed += out.getvalue()
        assert all(request.headers.get("x-xdr-auth-id") == "7" for request in tenant.requests)
        assert all(request.path.startswith("/xsoar/") for request in tenant.requests)
        assert tenant.api_key not in printed and liveperson.client_secret not in printed


def test_the_fake_tenant_never_answers_with_a_secret(
    tool: Any, tenant: FakeTenant, liveperson: FakeLivePerson, configured: None
) -> None:
    """
    Given a configured instance
    When the integrations are searched (as `status` and `test` do)
    Then the answer holds the client ID but not the client secret
    """
    answer = json.dumps(tenant.search())
    assert liveperson.client_id in answer and liveperson.client_secret not in answer


@pytest.mark.slow  # longer than the quick loop allows
def test_the_demo_runs_every_step(capsys: pytest.CaptureFixture[str]) -> None:
    """
    Given nothing but this checkout
    When `python3 -m Tests tenant demo` runs
    Then upload, configure (refused, then created), test, run, status and a failing test all answer as expected
    """
    assert cli.main(["demo"]) == 0
    out = capsys.readouterr().out
    for expected in (
        "uploaded: LivePerson Audit Trail",
        "unknown parameter 'acount_id'",
        "created instance LivePerson_Audit_Trail_demo",
        "test LivePerson_Audit_Trail_demo: success",
        "LivePerson Audit Trail events (5)",
        "fetching events: on",
        "failing stage: Authentication (Sentinel token, OAuth 2.0)",
        "demo: every step answered as expected",
    ):
        assert expected in out


def test_configure_reads_a_params_file_and_the_command_line_wins(
    tool: Any, tenant: FakeTenant, uploaded: None, endpoints: list[str], tmp_path: Path
) -> None:
    """
    Given a params file with JSON-typed values, and a command-line value for one of them
    When configure runs with both
    Then the file's values are used in their types, and the command line overrides the file
    """
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"lpa": False, "max_fetch": 800, "first_fetch": "1 day"}))
    outcome = tool("configure", "--name", NAME, "--params", str(params), *endpoints, "first_fetch=2 hours")
    assert outcome.code == 0, outcome.text
    items = data_of(saved_bodies(tenant)[-1])
    assert (items["lpa"]["value"], items["max_fetch"]["value"], items["first_fetch"]["value"]) == (False, "800", "2 hours")


def test_run_finds_the_callers_playground_among_several(tool: Any, tenant: FakeTenant, configured: None) -> None:
    """
    Given playgrounds of other users besides the caller's, then only others', then none
    When a command is run without --investigation-id
    Then it runs in the caller's playground; with none of the caller's, or none at all, it says to pass the ID
    """
    others = [{"id": f"other-{n}", "type": 9, "creatingUserId": f"user{n}@example.com"} for n in range(2)]
    tenant.playgrounds = [others[0], *tenant.playgrounds, others[1]]
    assert tool("run", NAME, "!liveperson-get-events limit=1").code == 0
    assert [r.body["investigationId"] for r in tenant.requests if r.path == "/entry/execute/sync"] == [tenant.playground_id]
    tenant.playgrounds = others
    outcome = tool("run", NAME, "!liveperson-get-events limit=1")
    assert outcome.code == 1 and "none of them the API key user's" in outcome.err and "--investigation-id" in outcome.err
    tenant.playgrounds = []
    outcome = tool("run", NAME, "!liveperson-get-events limit=1")
    assert outcome.code == 1 and "no playground" in outcome.err and "--investigation-id" in outcome.err


def test_run_in_a_given_investigation(tool: Any, tenant: FakeTenant, configured: None) -> None:
    """
    Given --investigation-id, of a known investigation and of an unknown one
    When a command is run
    Then it runs there without searching for the playground; the unknown one is the tenant's refusal, shown as such
    """
    tenant.playgrounds.append({"id": "incident-7", "type": 0, "creatingUserId": "someone"})
    assert tool("run", NAME, "!liveperson-get-events limit=1", "--investigation-id", "incident-7").code == 0
    assert not [r for r in tenant.requests if r.path == "/investigations/search"]
    outcome = tool("run", NAME, "!liveperson-get-events limit=1", "--investigation-id", "nope")
    assert outcome.code == 1 and "the tenant refused it (400: investigation 'nope' not found)" in outcome.err


def test_an_unexpected_failure_shows_no_traceback_and_no_secret(
    tool: Any, tenant: FakeTenant, uploaded: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    Given a fault inside the tool whose message happens to hold the API key
    When a command meets it
    Then the user sees one line saying it is the tool's fault, with the key redacted and no traceback
    """

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"boom {tenant.api_key}")

    monkeypatch.setattr("Tests.tenant.cli.module_configuration", broken)
    outcome = tool("upload", "--zip", "/nonexistent.zip")
    assert outcome.code == 1 and "is not a file" in outcome.err
    outcome = tool("configure", "--name", NAME, "account_id=1", "client_id=app")
    assert outcome.code == 1 and "unexpected failure: RuntimeError: boom <redacted>" in outcome.err
    assert tenant.api_key not in outcome.text and "Traceback" not in outcome.text
