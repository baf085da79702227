"""The manifest-to-instance mapping: the document `PUT /settings/integration` gets, built from the module configuration."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from Tests.tenant import fake_tenant, packaging
from Tests.tenant.instance import (
    current_values,
    differences_from_manifest,
    fetching,
    find_health,
    find_instance,
    instance_body,
    module_configuration,
)
from Tests.tenant.manifest import Manifest, check_values

INTEGRATION = packaging.PACK / "Integrations" / "LivePersonAuditTrail"


@pytest.fixture
def manifest() -> Manifest:
    return Manifest.load()


@pytest.fixture
def configuration() -> dict[str, Any]:
    """The module configuration a tenant reports once this checkout's pack is uploaded."""
    return fake_tenant.module_configuration(packaging.unified_integration(INTEGRATION), "LivePerson")


def typed(manifest: Manifest, **given: Any) -> dict[str, Any]:
    values = check_values(manifest, given)
    values["credentials"]["password"] = "the-secret"
    return values


def by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in body["data"]}


def test_a_new_instance_carries_every_parameter_with_the_values_given(manifest: Manifest, configuration: dict) -> None:
    """
    Given the module configuration of the uploaded integration and a user's values
    When the instance document is built
    Then every parameter of the configuration is in `data` once, with the server's name and type; given values carry
    `hasvalue`, booleans are booleans, credentials have the server's credentials shape; the rest get the defaults
    """
    values = typed(manifest, account_id="123", client_id="app", isFetchEvents="true", first_fetch="3 days")
    body = instance_body(configuration, "lp1", values)
    items = by_name(body)
    assert [item["name"] for item in body["data"]] == [parameter.name for parameter in manifest.parameters]
    assert all(items[p.name]["type"] == p.type for p in manifest.parameters)
    assert items["account_id"].items() >= {"value": "123", "hasvalue": True}.items()
    assert items["isFetchEvents"]["value"] is True
    assert items["credentials"]["value"] == {
        "credential": "",
        "identifier": "app",
        "password": "the-secret",
        "passwordChanged": False,
    }
    assert items["max_fetch"]["value"] == manifest.parameter("max_fetch").default  # type: ignore[union-attr]
    assert not items["max_fetch"]["hasvalue"]
    assert "value" in items["users"] and items["users"]["value"] == ""  # no default: left empty
    assert body.items() >= {"id": "", "version": 0, "name": "lp1", "brand": configuration["name"], "enabled": "true"}.items()
    assert body["isIntegrationScript"] is True and body["configuration"]["id"] == manifest.integration_id


def test_the_fake_tenant_accepts_the_document(manifest: Manifest, configuration: dict) -> None:
    """
    Given an instance document built for the required parameters only
    When the fake tenant's body checks run on it
    Then they find nothing wrong, and the credentials of the way in not used are sent empty, in their shape
    """
    body = instance_body(configuration, "lp1", typed(manifest, account_id="123", client_id="app"))
    assert fake_tenant.data_problems(configuration, body["data"], {}) == []
    empty = {"credential": "", "identifier": "", "password": "", "passwordChanged": False}
    assert by_name(body)["api_key_credentials"]["value"] == empty
    assert by_name(body)["access_token_credentials"]["value"] == empty
    assert by_name(body)["credentials"]["value"]["identifier"] == "app"


def test_an_update_keeps_the_instance_id_and_version_and_replaces_the_secret(manifest: Manifest, configuration: dict) -> None:
    """
    Given an existing instance (id, version, engine)
    When its document is built again
    Then the id, version and engine are kept (the server's optimistic lock), and the secret is marked as changed
    """
    existing = {"id": "abc", "version": 7, "engine": "engine-1", "name": "lp1"}
    body = instance_body(configuration, "lp1", typed(manifest, account_id="1", client_id="app"), existing)
    assert (body["id"], body["version"], body["engine"]) == ("abc", 7, "engine-1")
    assert by_name(body)["credentials"]["value"]["passwordChanged"] is True


def test_the_module_configuration_is_not_modified(manifest: Manifest, configuration: dict) -> None:
    """
    Given a module configuration
    When an instance document is built from it
    Then the configuration the caller holds is unchanged (it is copied)
    """
    before = copy.deepcopy(configuration)
    instance_body(configuration, "lp1", typed(manifest, account_id="1", client_id="app"))
    assert configuration == before


def test_current_values_leave_secrets_out(manifest: Manifest, configuration: dict) -> None:
    """
    Given a saved instance holding a client secret and an encrypted value
    When its current values are read (to keep what a new configure does not name)
    Then the identifier and the other values are kept, never a secret, and parameters without a value are skipped
    """
    body = instance_body(configuration, "lp1", typed(manifest, account_id="1", client_id="app", lpa="false"))
    body["data"].append({"name": "token", "type": 4, "value": "encrypted", "hasvalue": True})
    assert current_values(body) == {"account_id": "1", "credentials": {"identifier": "app"}, "lpa": False}


def test_differences_from_the_manifest_are_named(manifest: Manifest, configuration: dict) -> None:
    """
    Given a tenant's module configuration that lacks one parameter and types another differently
    When it is compared with the manifest
    Then both differences are named; an identical one has none
    """
    assert differences_from_manifest(configuration, manifest) == []
    changed = copy.deepcopy(configuration)
    changed["configuration"] = [p for p in changed["configuration"] if p["name"] != "page_size"]
    next(p for p in changed["configuration"] if p["name"] == "lpa")["type"] = 0
    assert differences_from_manifest(changed, manifest) == [
        "the tenant's LivePersonAuditTrail has lpa of type 0, the manifest says 8",
        "the tenant's LivePersonAuditTrail has no parameter page_size",
    ]


def test_search_answers_are_read_by_id_name_and_health(configuration: dict) -> None:
    """
    Given a search answer with two instances and health entries keyed the server's way
    When the configuration, an instance and its health are looked up
    Then each is found by integration ID, instance name, and instance name plus brand
    """
    instances: list[dict[str, Any]] = [
        {"name": "a", "brand": "LivePersonAuditTrail", "data": []},
        {"name": "b", "brand": "Other"},
    ]
    health = {
        "x": {"instance": "b", "brand": "Other"},
        "y": {"instance": "a", "brand": "LivePersonAuditTrail", "eventsPulled": 3},
    }
    search = {"configurations": [configuration], "instances": instances, "health": health}
    assert module_configuration(search, "LivePersonAuditTrail") is configuration
    assert module_configuration(search, "Nope") is None
    assert find_instance(search, "b") is instances[1] and find_instance(search, "c") is None
    assert find_health(search, instances[0]) == health["y"]
    assert find_health({"instances": instances}, instances[0]) is None


@pytest.mark.parametrize(("value", "expected"), [(True, True), ("true", True), (False, False), ("", False), (None, False)])
def test_fetching_follows_the_fetch_events_parameter(value: Any, expected: bool) -> None:
    """
    Given an instance whose isFetchEvents holds a boolean, a string or nothing
    When it is asked whether it fetches
    Then only true (boolean or string) means yes
    """
    assert fetching({"data": [{"name": "isFetchEvents", "value": value}]}) is expected
    assert fetching({"data": []}) is False
