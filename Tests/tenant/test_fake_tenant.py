"""The fake tenant checks what it gets: packs, instance documents, versions; and answers in the server's shapes."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from demisto_client.demisto_api.rest import ApiException

from Tests.tenant import packaging
from Tests.tenant.client import TenantClient, TenantSettings
from Tests.tenant.fake_tenant import FakeTenant, data_problems, module_configuration, read_pack
from Tests.tenant.instance import instance_body
from Tests.tenant.manifest import Manifest, check_values

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:demisto_client.demisto_api.rest")
INTEGRATION = packaging.PACK / "Integrations" / "LivePersonAuditTrail"


@pytest.fixture
def configuration() -> dict[str, Any]:
    return module_configuration(packaging.unified_integration(INTEGRATION), "LivePerson")


@pytest.fixture
def good_data(configuration: dict[str, Any]) -> list[dict[str, Any]]:
    values = check_values(Manifest.load(), {"account_id": "1", "client_id": "app"})
    values["credentials"]["password"] = "secret"
    return instance_body(configuration, "lp", values)["data"]


@pytest.fixture
def tenant() -> Iterator[FakeTenant]:
    with FakeTenant() as fake:
        yield fake


@pytest.fixture
def api(tenant: FakeTenant) -> Any:
    settings = {"DEMISTO_BASE_URL": tenant.url, "DEMISTO_API_KEY": tenant.api_key, "SSL_CERT_FILE": tenant.ca_bundle}
    return TenantClient(TenantSettings.from_environment(settings))._api


def refusal(call: Any, *args: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(ApiException) as raised:
        call(*args, **kwargs)
    return raised.value.status, json.loads(raised.value.body)


def put(api: Any, body: Any) -> Any:
    return api.generic_request("/settings/integration", "PUT", body=body, response_type="object")[0]


# ------------------------------------------------------------------ instance documents


def with_item(data: list[dict[str, Any]], name: str, **changes: Any) -> list[dict[str, Any]]:
    changed = copy.deepcopy(data)
    next(item for item in changed if item["name"] == name).update(changes)
    return changed


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: [*d, {"name": "color", "type": 0, "value": "red"}], "unknown parameter 'color'"),
        (
            lambda d: [*d, copy.deepcopy(next(item for item in d if item["name"] == "auth_server_url"))],
            "parameter 'auth_server_url' appears 2 times",
        ),
        (lambda d: [item for item in d if item["name"] != "lpa"], "parameter 'lpa' is missing from data"),
        (lambda d: with_item(d, "lpa", type=0), "lpa: type 0, the integration says 8"),
        (lambda d: with_item(d, "lpa", value="yes"), "lpa: a boolean, got 'yes'"),
        (lambda d: with_item(d, "eventFetchInterval", value="often"), "eventFetchInterval: a number, got 'often'"),
        (lambda d: with_item(d, "max_fetch", value=5000), "max_fetch: text, got int"),
        (lambda d: with_item(d, "account_id", value=""), "account_id is required"),
        (lambda d: with_item(d, "credentials", value={"identifier": "a", "password": "b"}), "credentials: credentials are"),
        (
            lambda d: with_item(
                d, "credentials", value={"credential": "", "identifier": "a", "password": 1, "passwordChanged": False}
            ),
            "credentials: credentials fields of the wrong type: password",
        ),
        (
            lambda d: [item for item in d if item["name"] != "users"] + [{"name": "users", "type": 0, "hasvalue": True}],
            "users: hasvalue",
        ),
    ],
)
def test_instance_data_problems_are_named(configuration: dict, good_data: list, change: Any, expected: str) -> None:
    """
    Given a correct instance `data`, changed in one way
    When the fake checks it
    Then the one problem is named
    """
    assert data_problems(configuration, good_data, {}) == []
    problems = data_problems(configuration, change(good_data), {})
    assert any(problem.startswith(expected) for problem in problems), problems


def test_data_that_is_not_a_list_of_objects_is_refused(configuration: dict) -> None:
    """
    Given `data` that is not a list of parameter objects
    When the fake checks it
    Then that is the one problem named
    """
    assert data_problems(configuration, "lpa=true", {}) == ["data must be a list of parameter objects"]
    assert data_problems(configuration, ["lpa"], {}) == ["data must be a list of parameter objects"]


def test_a_stored_secret_satisfies_a_blank_password(configuration: dict, good_data: list) -> None:
    """
    Given an update whose credentials carry no password
    When the fake checks it against an instance that stored one
    Then required credentials are satisfied; without a stored one they are not
    """
    configuration = copy.deepcopy(configuration)
    next(item for item in configuration["configuration"] if item["name"] == "credentials")["required"] = True
    blank = with_item(
        good_data, "credentials", value={"credential": "", "identifier": "a", "password": "", "passwordChanged": False}
    )
    assert data_problems(configuration, blank, {"credentials": "stored"}) == []
    assert data_problems(configuration, blank, {}) == ["credentials is required"]


def test_saving_checks_brand_name_and_version(tenant: FakeTenant, api: Any, configuration: dict, good_data: list) -> None:
    """
    Given the integration on the fake tenant
    When instances are saved: a new one, the same name again, a stale version, the current version, -1, an unknown brand
    Then a new name is created at version 1; a taken name, a stale version and an unknown brand are refused (the stale
    one with 409); the current version and -1 update it
    """
    tenant.configurations[configuration["id"]] = configuration
    tenant.scripts[configuration["id"]] = "pass"
    body = instance_body(configuration, "lp", {}) | {"data": good_data}
    created = put(api, body)
    assert (created["version"], created["name"]) == (1, "lp")
    assert refusal(put, api, body)[1]["detail"] == "an instance named lp already exists"
    stale_status, stale = refusal(put, api, body | {"id": created["id"], "version": 0})
    assert (stale_status, stale["title"]) == (409, "DB version conflict")
    assert put(api, body | {"id": created["id"], "version": 1})["version"] == 2
    assert put(api, body | {"id": created["id"], "version": -1})["version"] == 3
    assert refusal(put, api, body | {"brand": "Other"})[1]["detail"] == "no integration with brand 'Other' is installed"
    status, malformed = refusal(put, api, {"name": "x"})
    assert status == 400 and malformed["detail"].startswith("malformed instance")


def test_a_saved_secret_is_never_answered(tenant: FakeTenant, api: Any, configuration: dict, good_data: list) -> None:
    """
    Given an instance saved with a client secret
    When the answer to the save and the search are read
    Then the identifier is there and the password is blank
    """
    tenant.configurations[configuration["id"]] = configuration
    saved = put(api, instance_body(configuration, "lp", {}) | {"data": good_data})
    searched = api.generic_request("/settings/integration/search", "POST", body={}, response_type="object")[0]
    for instance in (saved, searched["instances"][0]):
        credentials = next(item for item in instance["data"] if item["name"] == "credentials")
        assert credentials["value"]["identifier"] == "app" and credentials["value"]["password"] == ""


# ------------------------------------------------------------------ packs


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"README.md": "x"}, "is not a pack zip with pack_metadata.json"),
        ({"pack_metadata.json": '{"name": "P"}'}, "holds no unified integration"),
        (
            {"pack_metadata.json": '{"name": "P"}', "Integrations/integration-X.yml": "name: X\nscript: {script: ''}\n"},
            "the integration X is not unified",
        ),
    ],
)
def test_a_zip_that_is_not_an_installable_pack_is_refused(files: dict[str, str], expected: str) -> None:
    """
    Given a zip without metadata, without an integration, or with an integration that is not unified
    When the fake reads it
    Then it is refused saying which
    """
    with pytest.raises(Exception, match=expected):
        read_pack(zip_of(files))


def test_an_unsigned_pack_needs_skip_verify(tenant: FakeTenant, api: Any, tmp_path: Path) -> None:
    """
    Given the plain build of the pack (not signed)
    When it is uploaded without skip_verify, then with it
    Then the first is refused as unsigned, the second installs the integration with its script
    """
    built = packaging.build_plain(tmp_path)
    status, answer = refusal(api.upload_content_packs, file=str(built))
    assert status == 400 and answer["title"] == "Pack signature verification failed"
    assert api.upload_content_packs(file=str(built), skip_verify="true") is None
    assert tenant.packs == ["LivePerson"]
    assert "def test_module" in tenant.scripts["LivePersonAuditTrail"]


def test_the_plain_build_is_the_integration_unified(tmp_path: Path) -> None:
    """
    Given the plain build of the pack
    When its integration is read
    Then it is the manifest with the module's source minus the two platform imports, the description and the image
    """
    with zipfile.ZipFile(packaging.build_plain(tmp_path)) as archive:
        assert {"pack_metadata.json", "README.md", "Integrations/integration-LivePersonAuditTrail.yml"} <= set(archive.namelist())
        pack_id, [unified] = read_pack((tmp_path / packaging.ZIP_NAME).read_bytes())
    source = (INTEGRATION / "LivePersonAuditTrail.py").read_text()
    kept = ["" if line in packaging.PLATFORM_IMPORTS else line for line in source.splitlines()]
    assert unified["script"]["script"].splitlines() == kept
    assert "import demistomock as demisto" in source.splitlines()
    assert unified["detaileddescription"] == (INTEGRATION / "LivePersonAuditTrail_description.md").read_text()
    assert unified["image"].startswith("data:image/png;base64,")
    assert pack_id == "LivePerson"


# ------------------------------------------------------------------ other answers


def test_the_playground_and_the_user(tenant: FakeTenant, api: Any) -> None:
    """
    Given the fake tenant
    When the playground is searched as demisto-sdk searches it, and the user is read
    Then the one playground is found by demisto-py's model, created by that user
    """
    found = api.search_investigations(filter={"filter": {"type": [9], "page": 0}})
    assert found.total == 1 and found.data[0].id == tenant.playground_id
    assert found.data[0].creating_user_id == tenant.username
    assert api.generic_request("/user", "GET", response_type="object")[0]["username"] == tenant.username


def test_requests_are_recorded_without_the_key(tenant: FakeTenant, api: Any) -> None:
    """
    Given a request to the fake
    When its record is read
    Then it has the method, path, body and status, and the headers without Authorization
    """
    api.generic_request("/settings/integration/search", "POST", body={"size": 1}, response_type="object")
    record = tenant.requests[-1]
    assert (record.method, record.path, record.body, record.status) == ("POST", "/settings/integration/search", {"size": 1}, 200)
    assert "Authorization" not in record.headers and tenant.api_key not in json.dumps(record.headers)
