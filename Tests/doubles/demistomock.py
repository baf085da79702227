"""A small double of the platform's `demistomock`: what an integration calls, with the platform's semantics.

The platform keeps params, args, the last run and the integration context; here they live in `_platform`, which
tests and the local runner set up with `_reset(...)` (or by replacing these functions, as content tests do).
Last run and integration context are JSON documents on the platform: they are stored and returned as JSON copies.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Platform:
    params: dict[str, Any] = field(default_factory=dict)
    args: dict[str, Any] = field(default_factory=dict)
    command: str = ""
    last_run: dict[str, Any] = field(default_factory=dict)
    integration_context: dict[str, Any] = field(default_factory=dict)
    logs: list[tuple[str, str]] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)
    module_health: list[Any] = field(default_factory=list)
    license_fields: dict[str, str] = field(
        default_factory=lambda: {"Http_Connector.url": "xsiam.example.test", "Http_Connector.token": "license-token"}
    )


_platform = _Platform()


def _reset(**fields: Any) -> _Platform:
    """A fresh platform state (test-only hook; the integration never calls it)."""
    global _platform
    _platform = _Platform(**fields)
    return _platform


def _json_copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


def params() -> dict:
    return _platform.params


def args() -> dict:
    return _platform.args


def command() -> str:
    return _platform.command


def getLastRun() -> dict:
    return _json_copy(_platform.last_run or {})


def setLastRun(obj: Any) -> None:
    _platform.last_run = _json_copy(obj)


def getIntegrationContext() -> dict:
    return _json_copy(_platform.integration_context or {})


def setIntegrationContext(context: Any) -> None:
    _platform.integration_context = _json_copy(context)


def _log(level: str, msg: Any) -> None:
    _platform.logs.append((level, str(msg)))
    if os.environ.get("DEMISTO_DOUBLES_ECHO") == "1":
        print(f"[{level}] {msg}", file=sys.stderr)


def debug(msg: Any, *args: Any) -> None:
    _log("debug", msg)


def info(msg: Any, *args: Any) -> None:
    _log("info", msg)


def error(msg: Any, *args: Any) -> None:
    _log("error", msg)


def updateModuleHealth(data: Any, is_error: bool = False) -> None:
    _platform.module_health.append({"data": data, "is_error": is_error})


def results(results: Any) -> None:
    _platform.results.append(results)


def getLicenseCustomField(key: str) -> str | None:
    return _platform.license_fields.get(key)


def callingContext() -> dict:
    return {"context": {"IntegrationBrand": "LivePersonAuditTrail"}}
