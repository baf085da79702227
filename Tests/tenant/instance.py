"""The instance document a tenant expects, built from the module configuration it reports.

`POST /settings/integration/search` answers with `configurations` (one module configuration per integration: its
`configuration` list holds each parameter as the server knows it: name, display, type, required, defaultValue, ...),
`instances` and, on servers that report it, `health`. An instance is saved with `PUT /settings/integration`: the
module configuration's parameters, each with its `value` (and `hasvalue` once set), in `data`; the shape follows the
one demisto-sdk sends (commands/common/clients/xsoar/xsoar_api_client.py, create_integration_instance). Pure functions.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from Tests.tenant.manifest import CREDENTIALS, ENCRYPTED, Manifest


def module_configuration(search: Mapping[str, Any], integration_id: str) -> dict[str, Any] | None:
    """The module configuration of the integration with this ID, as the tenant reports it, or None."""
    for configuration in search.get("configurations") or []:
        if configuration.get("id") == integration_id:
            return configuration
    return None


def find_instance(search: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    for instance in search.get("instances") or []:
        if instance.get("name") == name:
            return instance
    return None


def find_health(search: Mapping[str, Any], instance: Mapping[str, Any]) -> dict[str, Any] | None:
    """The health the server keeps for this instance, matched by instance name and brand (the map's keys are its own)."""
    health = search.get("health")
    if not isinstance(health, dict):
        return None
    for entry in health.values():
        same_instance = isinstance(entry, dict) and entry.get("instance") == instance.get("name")
        if same_instance and entry.get("brand") in (None, "", instance.get("brand")):
            return entry
    return None


def differences_from_manifest(configuration: Mapping[str, Any], manifest: Manifest) -> list[str]:
    """Where the tenant's version of the integration differs from the manifest in this checkout (upload it first)."""
    on_tenant = {parameter.get("name"): parameter for parameter in configuration.get("configuration") or []}
    problems = []
    for parameter in manifest.parameters:
        theirs = on_tenant.get(parameter.name)
        if theirs is None:
            problems.append(f"the tenant's {manifest.integration_id} has no parameter {parameter.name}")
        elif int(theirs.get("type", -1)) != parameter.type:
            problems.append(
                f"the tenant's {manifest.integration_id} has {parameter.name} of type {theirs.get('type')}, "
                f"the manifest says {parameter.type}"
            )
    return problems


def current_values(instance: Mapping[str, Any]) -> dict[str, Any]:
    """What an existing instance holds, without secrets: kept for every parameter a new `configure` does not name."""
    values: dict[str, Any] = {}
    for item in instance.get("data") or []:
        name, value = item.get("name"), item.get("value")
        if not name or not item.get("hasvalue"):
            continue
        if item.get("type") == CREDENTIALS:
            identifier = value.get("identifier") if isinstance(value, dict) else ""
            values[name] = {"identifier": identifier or ""}
        elif item.get("type") != ENCRYPTED:
            values[name] = value
    return values


def _parameter_value(parameter: Mapping[str, Any], value: Any, updating: bool) -> Any:
    if parameter.get("type") != CREDENTIALS:
        return value
    return {
        "credential": "",
        "identifier": value.get("identifier", ""),
        "password": value.get("password", ""),
        # On an update the secret is sent again and must replace the stored one.
        "passwordChanged": updating,
    }


def instance_body(
    configuration: Mapping[str, Any], name: str, values: Mapping[str, Any], existing: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The document for `PUT /settings/integration`: a new instance, or an update of `existing` (same id and version).

    `values` are by parameter name, typed (booleans as booleans, credentials as {"identifier", "password"}); every
    other parameter gets the server's default value, as the platform's own tooling does.
    """
    configuration = copy.deepcopy(dict(configuration))
    existing = existing or {}
    data = []
    for parameter in configuration.get("configuration") or []:
        item = copy.deepcopy(parameter)
        if parameter.get("name") in values:
            item["value"] = _parameter_value(parameter, values[parameter["name"]], updating=bool(existing))
            item["hasvalue"] = True
        elif parameter.get("type") == CREDENTIALS:  # not used (the other way in): empty, in the credentials' shape
            item["value"] = _parameter_value(parameter, {}, updating=bool(existing))
        elif parameter.get("defaultValue") not in (None, ""):
            item["value"] = parameter["defaultValue"]
        data.append(item)
    return {
        "id": existing.get("id", ""),
        "version": existing.get("version", 0),
        "name": name,
        "brand": configuration.get("name"),
        "category": configuration.get("category"),
        "configuration": configuration,
        "data": data,
        "enabled": "true",
        "engine": existing.get("engine", ""),
        "isIntegrationScript": True,
        "canSample": True,
        "passwordProtected": False,
        "incomingMapperId": existing.get("incomingMapperId", configuration.get("defaultMapperIn", "")),
        "mappingId": existing.get("mappingId", configuration.get("defaultClassifier", "")),
        "outgoingMapperId": existing.get("outgoingMapperId", configuration.get("defaultMapperOut", "")),
    }


def fetching(instance: Mapping[str, Any]) -> bool:
    """Whether the instance fetches: its isFetchEvents (or isFetch) parameter is on."""
    for item in instance.get("data") or []:
        if item.get("name") in ("isFetchEvents", "isFetch"):
            value = item.get("value")
            return value is True or str(value).lower() == "true"
    return False
