"""A fake Cortex XSOAR / XSIAM tenant: exactly the endpoints `python3 -m Tests tenant` uses, on loopback.

demisto-py talks to it unchanged. It answers in the shapes the real server uses (those demisto-sdk's client reads:
commands/common/clients/xsoar/xsoar_api_client.py), records every request in `requests`, and checks the bodies:

- `POST /contentpacks/installed/upload` (multipart `file`, `skipVerify`): the zip must hold pack_metadata.json and a
  unified integration; an unsigned pack is refused unless signature verification is skipped. Each integration's
  manifest becomes a module configuration, its script what the engine runs.
- `POST /settings/integration/search`: `configurations`, `instances` (secrets blanked: the fake never returns them)
  and `health`.
- `PUT /settings/integration`: the instance document, checked against the module configuration: known brand, every
  parameter present once with the server's name and type, each value in its type's shape (credentials as
  {credential, identifier, password, passwordChanged}), required ones set; a new name, or the stored id and version
  (or -1) for an update. Refusals answer 400 (409 for a stale version) with the reason in `detail`.
- `POST /settings/integration/test`: runs the instance's test-module for real: the uploaded script, in a fresh process,
  through Tests/platform_run.py (see Tests/tenant/engine.py), against whatever the parameters point at (the fake
  LivePerson in the demo and the tests). Answers {"success": ..., "message": ...}.
- `POST /entry/execute/sync` in the playground: `!command key=value ... using=INSTANCE` runs the same way; the answer
  is the list of war-room entries (a command's HumanReadable as a markdown entry, errors as type 4).
- `POST /investigations/search` (the playground) and `GET /user`.

Authentication: `Authorization` is the API key; an advanced key is checked as demisto-py signs it (sha256 of key,
nonce and timestamp). With an auth ID (Cortex XSIAM / XSOAR 8) the `x-xdr-auth-id` header must carry it and the API
lives under /xsoar, where demisto-py puts it. `fetch(name)` plays one scheduled fetch and updates the health.
Everything the fake writes (TLS files, instance folders with their parameters) lives in one private temporary folder,
removed by `stop()`.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import secrets
import shlex
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

import yaml

from Tests.local_server import LocalServer, QuietHandler
from Tests.tenant import engine

ROOT = Path(__file__).resolve().parents[2]
PLAYGROUND_TYPE = 9
CREDENTIALS, BOOLEAN, NUMBER, SINGLE_SELECT, MULTI_SELECT, FETCH_INTERVAL = 9, 8, 1, 15, 16, 19
ENGINE_TIMEOUT = 300


@dataclass
class TenantRequest:
    method: str
    path: str
    body: Any
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)


class RefusalError(Exception):
    def __init__(self, status: int, title: str, detail: str):
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# ------------------------------------------------------------------ packs


def server_parameter(entry: dict[str, Any]) -> dict[str, Any]:
    """A manifest parameter as the server reports it in a module configuration."""
    default = entry.get("defaultvalue")
    return {
        "name": entry["name"],
        "display": entry.get("display", ""),
        "displayPassword": entry.get("displaypassword", ""),
        "defaultValue": "" if default is None else str(default),
        "type": int(entry.get("type", 0)),
        "required": bool(entry.get("required", False)),
        "hidden": entry.get("hidden") is True,
        "hiddenUsername": bool(entry.get("hiddenusername", False)),
        "hiddenPassword": False,
        "options": list(entry.get("options") or []),
        "info": entry.get("additionalinfo", ""),
        "section": entry.get("section", ""),
        "advanced": bool(entry.get("advanced", False)),
        "hasvalue": False,
        "value": "",
    }


def module_configuration(unified: dict[str, Any], pack_id: str) -> dict[str, Any]:
    script = unified.get("script") or {}
    commands = [
        {"name": command["name"], "description": command.get("description", ""), "arguments": command.get("arguments") or []}
        for command in script.get("commands") or []
    ]
    return {
        "id": unified["commonfields"]["id"],
        "version": 1,
        "name": unified["name"],
        "brand": unified["name"],
        "display": unified.get("display", unified["name"]),
        "category": unified.get("category", ""),
        "description": unified.get("description", ""),
        "detailedDescription": unified.get("detaileddescription", ""),
        "sectionOrder": unified.get("sectionorder") or [],
        "packID": pack_id,
        "configuration": [server_parameter(entry) for entry in unified.get("configuration") or []],
        "integrationScript": {
            "type": script.get("type", ""),
            "subtype": script.get("subtype", ""),
            "dockerImage": script.get("dockerimage", ""),
            "isFetchEvents": bool(script.get("isfetchevents", False)),
            "commands": commands,
        },
        "defaultClassifier": "",
        "defaultMapperIn": "",
        "defaultMapperOut": "",
    }


SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, where PyYAML's wheel has it: same safe subset


def read_pack(payload: bytes) -> tuple[str, list[dict[str, Any]]]:
    """(pack id, unified integrations) of an uploaded zip, or RefusalError."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
        metadata = json.loads(archive.read("pack_metadata.json"))
        integrations = [
            yaml.load(archive.read(name), Loader=SAFE_LOADER)
            for name in archive.namelist()
            if name.startswith("Integrations/integration-") and name.endswith(".yml")
        ]
    except (zipfile.BadZipFile, KeyError, ValueError, yaml.YAMLError) as error:
        raise RefusalError(400, "Invalid pack", f"the upload is not a pack zip with pack_metadata.json ({error})") from None
    if not integrations:
        raise RefusalError(400, "Invalid pack", "the pack holds no unified integration (Integrations/integration-*.yml)")
    for unified in integrations:
        if not (unified.get("script") or {}).get("script"):
            raise RefusalError(400, "Invalid pack", f"the integration {unified.get('name')} is not unified: its script is empty")
    return str(metadata.get("name") or metadata.get("id") or "pack"), integrations


# ------------------------------------------------------------------ the instance document


def _value_problem(parameter: dict[str, Any], value: Any) -> str | None:
    name, kind = parameter["name"], parameter["type"]
    if kind == CREDENTIALS:
        shape = {"credential": str, "identifier": str, "password": str, "passwordChanged": bool}
        if not isinstance(value, dict) or set(value) != set(shape):
            return f"{name}: credentials are {{credential, identifier, password, passwordChanged}}, not {value!r:.40}"
        wrong = [key for key, kind_of in shape.items() if not isinstance(value[key], kind_of)]
        return f"{name}: credentials fields of the wrong type: {', '.join(wrong)}" if wrong else None
    if kind == BOOLEAN:
        ok = isinstance(value, bool) or value in ("true", "false", "")
        return None if ok else f"{name}: a boolean, got {value!r}"
    if kind == MULTI_SELECT:
        ok = isinstance(value, list) and all(item in parameter["options"] for item in value)
        return None if ok else f"{name}: a list of {parameter['options']}, got {value!r}"
    if not isinstance(value, str):
        return f"{name}: text, got {type(value).__name__}"
    if kind in (NUMBER, FETCH_INTERVAL) and value and not value.lstrip("-").isdigit():
        return f"{name}: a number, got {value!r}"
    if kind == SINGLE_SELECT and value and value not in parameter["options"]:
        return f"{name}: one of {parameter['options']}, got {value!r}"
    return None


def _missing(parameter: dict[str, Any], item: dict[str, Any], stored_secret: str) -> bool:
    value = item.get("value")
    if parameter["type"] == CREDENTIALS:
        return not (isinstance(value, dict) and value.get("identifier") and (value.get("password") or stored_secret))
    return value in (None, "", [])


def data_problems(configuration: dict[str, Any], data: Any, stored_secrets: dict[str, str]) -> list[str]:
    """What is wrong with an instance's `data` for this module configuration."""
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        return ["data must be a list of parameter objects"]
    parameters = {parameter["name"]: parameter for parameter in configuration["configuration"]}
    names = [item.get("name") for item in data]
    problems = [f"unknown parameter {name!r}" for name in names if name not in parameters]
    problems += [f"parameter {name!r} appears {names.count(name)} times" for name in sorted(set(names)) if names.count(name) > 1]
    problems += [f"parameter {name!r} is missing from data" for name in parameters if name not in names]
    for item in data:
        parameter = parameters.get(item.get("name"))
        if parameter is None:
            continue
        if item.get("type") != parameter["type"]:
            problems.append(f"{parameter['name']}: type {item.get('type')!r}, the integration says {parameter['type']}")
        if "value" in item and (problem := _value_problem(parameter, item["value"])):
            problems.append(problem)
        if item.get("hasvalue") and "value" not in item:
            problems.append(f"{parameter['name']}: hasvalue without a value")
        if parameter["required"] and _missing(parameter, item, stored_secrets.get(parameter["name"], "")):
            problems.append(f"{parameter['name']} is required")
    return problems


def _blank_secrets(data: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """(data with every password blanked, the passwords by parameter name)."""
    blanked, found = copy.deepcopy(data), {}
    for item in blanked:
        value = item.get("value")
        if item.get("type") == CREDENTIALS and isinstance(value, dict):
            found[item["name"]] = value.get("password", "")
            value["password"] = ""
        elif item.get("type") == 4 and isinstance(value, str):
            found[item["name"]], item["value"] = value, ""
    return blanked, found


# ------------------------------------------------------------------ the tenant


class FakeTenant:
    """`with FakeTenant() as tenant:` then point DEMISTO_BASE_URL at tenant.url and DEMISTO_API_KEY at tenant.api_key."""

    def __init__(
        self,
        api_key: str | None = None,
        auth_id: str | None = None,
        advanced: bool = False,
        tls: bool = True,
        trust: str | None = None,
        username: str = "admin@example.com",
    ):
        self.api_key = api_key or "fake-api-key-" + secrets.token_hex(16)
        self.auth_id = auth_id
        self.advanced = advanced
        self.tls = tls
        self.trust = trust  # a CA bundle the engine's integrations trust (the fake LivePerson's)
        self.username = username
        self.playground_id = str(uuid.uuid4())
        # Every user has a playground of their own; other users' may be visible too (tests add them here).
        self.playgrounds = [{"id": self.playground_id, "name": "Playground", "type": PLAYGROUND_TYPE, "creatingUserId": username}]
        self.requests: list[TenantRequest] = []
        self.configurations: dict[str, dict[str, Any]] = {}
        self.scripts: dict[str, str] = {}
        self.packs: list[str] = []
        self.instances: dict[str, dict[str, Any]] = {}
        self.health: dict[str, dict[str, Any]] = {}
        self.engine_runs: list[tuple[str, str]] = []
        self._secrets: dict[str, dict[str, str]] = {}
        self._lock = threading.RLock()
        self._server: LocalServer | None = None
        self._work: Path | None = None
        self.url = ""
        self.ca_bundle = ""

    # -- life cycle

    def start(self) -> FakeTenant:
        self._work = Path(tempfile.mkdtemp(prefix="fake-tenant-"))  # private (0700): instance parameters live here
        handler = type("Handler", (_Handler,), {"tenant": self})
        tls_folder = self._work / "tls" if self.tls else None
        if tls_folder:
            tls_folder.mkdir()
        self._server = LocalServer(handler, "fake-tenant", tls_folder)
        self.url, self.ca_bundle = self._server.url, self._server.ca_bundle
        return self

    def stop(self) -> None:
        if self._server:
            self._server.close()
            self._server = None
        if self._work:
            shutil.rmtree(self._work, ignore_errors=True)
            self._work = None

    def __enter__(self) -> FakeTenant:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- authentication

    def authorized(self, headers: Any) -> bool:
        given = headers.get("Authorization", "")
        if self.advanced:
            nonce, timestamp = headers.get("x-xdr-nonce", ""), headers.get("x-xdr-timestamp", "")
            expected = hashlib.sha256(f"{self.api_key}{nonce}{timestamp}".encode()).hexdigest()
            key_ok = bool(nonce and timestamp) and secrets.compare_digest(given, expected)
        else:
            key_ok = secrets.compare_digest(given, self.api_key)
        return key_ok and (self.auth_id is None or headers.get("x-xdr-auth-id") == self.auth_id)

    # -- endpoints

    def upload(self, fields: dict[str, str], files: dict[str, bytes]) -> None:
        if "file" not in files:
            raise RefusalError(400, "Bad request", "no file in the upload")
        if fields.get("skipVerify") != "true":
            raise RefusalError(400, "Pack signature verification failed", "the pack is not signed; upload it with skip verify")
        pack_id, integrations = read_pack(files["file"])
        with self._lock:
            for unified in integrations:
                configuration = module_configuration(unified, pack_id)
                self.configurations[configuration["id"]] = configuration
                self.scripts[configuration["id"]] = unified["script"]["script"]
            self.packs.append(pack_id)

    def search(self) -> dict[str, Any]:
        with self._lock:
            return {
                "configurations": copy.deepcopy(list(self.configurations.values())),
                "instances": copy.deepcopy(list(self.instances.values())),
                "health": copy.deepcopy(self.health),
                "engines": {"total": 0, "engines": []},
            }

    def _configuration_by_brand(self, brand: Any) -> dict[str, Any]:
        for configuration in self.configurations.values():
            if configuration["name"] == brand:
                return configuration
        raise RefusalError(400, "Bad request", f"no integration with brand {brand!r} is installed")

    def _existing(self, body: dict[str, Any]) -> dict[str, Any] | None:
        if not body["id"]:
            if any(instance["name"] == body["name"] for instance in self.instances.values()):
                raise RefusalError(400, "Bad request", f"an instance named {body['name']} already exists")
            return None
        stored = self.instances.get(body["id"])
        if stored is None:
            raise RefusalError(400, "Bad request", f"no instance with id {body['id']}")
        if body["version"] not in (-1, stored["version"]):
            stale = f"version {body['version']} is stale, the instance is at {stored['version']}"
            raise RefusalError(409, "DB version conflict", stale)
        return stored

    def save_instance(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise RefusalError(400, "Bad request", "the body must be an instance object")
        shape = {"id": str, "name": str, "brand": str, "data": list, "version": int, "configuration": dict, "enabled": str}
        wrong = [key for key, kind in shape.items() if not isinstance(body.get(key), kind)]
        if wrong or not body["name"] or body["enabled"] not in ("true", "false") or body.get("isIntegrationScript") is not True:
            what = ", ".join(wrong) or "name, enabled or isIntegrationScript"
            raise RefusalError(400, "Bad request", f"malformed instance ({what})")
        with self._lock:
            configuration = self._configuration_by_brand(body["brand"])
            if body["configuration"].get("id") != configuration["id"]:
                raise RefusalError(400, "Bad request", "configuration is not the module configuration of the brand")
            existing = self._existing(body)
            stored_secrets = self._secrets.get(existing["id"], {}) if existing else {}
            problems = data_problems(configuration, body["data"], stored_secrets)
            if problems:
                raise RefusalError(400, "Bad request", "; ".join(problems))
            data, given_secrets = _blank_secrets(body["data"])
            instance_id = existing["id"] if existing else str(uuid.uuid4())
            # A password sent, or marked changed (an emptied credentials: the other way in is used), replaces the stored one.
            changed = {
                item["name"]
                for item in body["data"]
                if item.get("type") == CREDENTIALS
                and isinstance(item.get("value"), dict)
                and item["value"].get("passwordChanged")
            }
            kept = {
                name: secret for name, secret in stored_secrets.items() if not given_secrets.get(name) and name not in changed
            }
            self._secrets[instance_id] = {**{k: v for k, v in given_secrets.items() if v}, **kept}
            instance = {
                "id": instance_id,
                "version": (existing["version"] + 1) if existing else 1,
                "name": body["name"],
                "brand": body["brand"],
                "category": configuration["category"],
                "enabled": body["enabled"],
                "isIntegrationScript": True,
                "engine": body.get("engine", ""),
                "data": data,
                "configvalues": {item["name"]: item.get("value") for item in data},
                "configtypes": {item["name"]: item["type"] for item in data},
                "created": existing["created"] if existing else now_iso(),
                "modified": now_iso(),
            }
            self.instances[instance_id] = instance
            return copy.deepcopy(instance)

    def _params(self, instance_id: str, data: list[dict[str, Any]]) -> dict[str, Any]:
        """demisto.params() of an instance: each parameter's value, with its stored secret where the data has none."""
        stored = self._secrets.get(instance_id, {})
        params: dict[str, Any] = {}
        for item in data:
            if "value" not in item:
                continue
            value = copy.deepcopy(item["value"])
            if item.get("type") == CREDENTIALS and isinstance(value, dict) and not value.get("password"):
                value["password"] = stored.get(item["name"], "")
            elif item.get("type") == 4 and not value:
                value = stored.get(item["name"], "")
            params[item["name"]] = value
        return params

    def _run(self, instance: dict[str, Any], data: list[dict[str, Any]], command: str, args: dict[str, str]) -> dict:
        """One command of the instance in the engine: a fresh process running the uploaded script."""
        assert self._work is not None
        configuration = self._configuration_by_brand(instance["brand"])
        state = self._work / "instances" / instance["id"]
        state.mkdir(parents=True, exist_ok=True)
        engine.install_script(state, self.scripts[configuration["id"]])
        params_file = state / "params.json"
        params_file.touch(mode=0o600)
        params_file.write_text(json.dumps(self._params(instance["id"], data)))
        environment = {**os.environ, **({"REQUESTS_CA_BUNDLE": self.trust} if self.trust else {})}
        words = [f"{key}={value}" for key, value in args.items()]
        self.engine_runs.append((instance["name"], command))
        finished = subprocess.run(
            [sys.executable, "-m", "Tests.tenant.engine", str(state), command, *words],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=ENGINE_TIMEOUT,
            check=False,
        )
        lines = finished.stdout.strip().splitlines()
        try:
            return json.loads(lines[-1])
        except (IndexError, ValueError):
            return {"results": [], "error": f"the engine failed: {finished.stderr.strip()[-500:]}", "events_sent": 0}

    def test_instance(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise RefusalError(400, "Bad request", "the body must be an instance with data")
        with self._lock:
            instance = self.instances.get(body.get("id") or "") or next(
                (item for item in self.instances.values() if item["name"] == body.get("name")), None
            )
            if instance is None:
                raise RefusalError(400, "Bad request", f"no instance {body.get('name')!r}")
            outcome = self._run(instance, body["data"], "test-module", {})
        results = outcome["results"]
        if outcome["error"] is None and results == ["ok"]:
            return {"success": True, "message": ""}
        return {"success": False, "message": str(outcome["error"] or (results[-1] if results else "no answer"))}

    def _instance_for(self, command: str, using: str | None) -> dict[str, Any]:
        candidates = [
            instance
            for instance in self.instances.values()
            if instance["enabled"] == "true"
            and any(
                known["name"] == command
                for known in self._configuration_by_brand(instance["brand"])["integrationScript"]["commands"]
            )
        ]
        if using is not None:
            candidates = [instance for instance in candidates if instance["name"] == using]
        if not candidates:
            where = f" in an enabled instance named {using}" if using else " in any enabled instance"
            raise LookupError(f"Unsupported Command : {command}: not found{where}")
        return candidates[0]

    def _entry(self, investigation_id: str, command_line: str, kind: int, contents: Any, format: str) -> dict[str, Any]:
        return {
            "id": f"{len(self.requests)}@{investigation_id}",
            "investigationId": investigation_id,
            "type": kind,
            "contents": contents,
            "format": format,
            "parentContent": command_line,
            "created": now_iso(),
        }

    def execute(self, body: Any) -> list[dict[str, Any]]:
        if not isinstance(body, dict) or not isinstance(body.get("data"), str):
            raise RefusalError(400, "Bad request", "the body must be {investigationId, data}")
        investigation_id, line = str(body.get("investigationId")), body["data"].strip()
        if investigation_id not in {playground["id"] for playground in self.playgrounds}:
            raise RefusalError(400, "Bad request", f"investigation {investigation_id!r} not found")
        if not line.startswith("!"):
            return [self._entry(investigation_id, line, 1, line, "markdown")]
        try:
            command, *words = shlex.split(line[1:])
            args = dict(word.split("=", 1) for word in words)
        except ValueError as error:
            return [self._entry(investigation_id, line, 4, f"Could not parse the command: {error}", "text")]
        using = args.pop("using", None)
        with self._lock:
            try:
                instance = self._instance_for(command, using)
            except LookupError as error:
                return [self._entry(investigation_id, line, 4, str(error), "text")]
            outcome = self._run(instance, instance["data"], command, args)
        return [self._result_entry(investigation_id, line, result) for result in outcome["results"]]

    def _result_entry(self, investigation_id: str, line: str, result: Any) -> dict[str, Any]:
        if not isinstance(result, dict):
            return self._entry(investigation_id, line, 1, str(result), "text")
        kind = int(result.get("Type", 1))
        if result.get("HumanReadable") and kind != 4:
            return self._entry(investigation_id, line, kind, result["HumanReadable"], "markdown")
        return self._entry(investigation_id, line, kind, result.get("Contents"), str(result.get("ContentsFormat") or "text"))

    def investigations(self, body: Any) -> dict[str, Any]:
        wanted = ((body or {}).get("filter") or {}).get("type") or []
        found = copy.deepcopy(self.playgrounds) if not wanted or PLAYGROUND_TYPE in wanted else []
        return {"total": len(found), "data": found}

    # -- what the platform does by itself

    def fetch(self, name: str) -> dict[str, Any]:
        """One scheduled fetch of an enabled, fetching instance, as the platform runs it; updates its health."""
        with self._lock:
            instance = next(item for item in self.instances.values() if item["name"] == name)
            fetching = any(item["name"] == "isFetchEvents" and item.get("value") in (True, "true") for item in instance["data"])
            if instance["enabled"] != "true" or not fetching:
                raise ValueError(f"{name} does not fetch")
            outcome = self._run(instance, instance["data"], "fetch-events", {})
            self.health[instance["id"]] = {
                "id": instance["id"],
                "brand": instance["brand"],
                "instance": name,
                "eventsPulled": outcome["events_sent"],
                "incidentsPulled": 0,
                "lastPullTime": now_iso(),
                "lastError": outcome["error"] or "",
            }
            return outcome


# ------------------------------------------------------------------ HTTP


class _Handler(QuietHandler):
    tenant: FakeTenant  # its request log is tenant.requests

    def do_PUT(self) -> None:  # noqa: N802 - the standard library's name for it
        self._dispatch("PUT")

    def _body(self, raw: bytes) -> tuple[Any, dict[str, str], dict[str, bytes]]:
        """(JSON body, form fields, files)."""
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("multipart/form-data"):
            message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
            fields: dict[str, str] = {}
            files: dict[str, bytes] = {}
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True)
                payload = payload if isinstance(payload, bytes) else b""
                if part.get_filename():
                    files[str(name)] = payload
                else:
                    fields[str(name)] = payload.decode()
            return {"fields": fields, "files": sorted(files)}, fields, files
        if not raw:
            return None, {}, {}
        try:
            return json.loads(raw), {}, {}
        except ValueError:
            raise RefusalError(400, "Bad request", "the body is not JSON") from None

    def _dispatch(self, method: str) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?", 1)[0]
        headers = {name: value for name, value in self.headers.items() if name.lower() != "authorization"}
        record = TenantRequest(method, path, None, headers=headers)
        self.tenant.requests.append(record)
        try:
            if self.tenant.auth_id is not None:
                if not path.startswith("/xsoar/"):
                    raise RefusalError(404, "Not found", f"{path} is not an API path (Cortex XSIAM serves it under /xsoar)")
                path = path[len("/xsoar") :]
            if not self.tenant.authorized(self.headers):
                raise RefusalError(401, "Unauthorized", "the API key or its ID is not valid")
            record.body, fields, files = self._body(raw)
            answer = self._route(method, path, record.body, fields, files)
        except RefusalError as refusal:
            error = {"id": refusal.title, "status": refusal.status, "title": refusal.title, "detail": refusal.detail}
            return self._answer(record, refusal.status, {**error, "error": refusal.detail, "encrypted": False})
        return self._answer(record, 200, answer)

    def _route(self, method: str, path: str, body: Any, fields: dict[str, str], files: dict[str, bytes]) -> Any:
        tenant = self.tenant
        if (method, path) == ("POST", "/contentpacks/installed/upload"):
            tenant.upload(fields, files)
            return None
        if (method, path) == ("POST", "/settings/integration/search"):
            return tenant.search()
        if (method, path) == ("PUT", "/settings/integration"):
            return tenant.save_instance(body)
        if (method, path) == ("POST", "/settings/integration/test"):
            return tenant.test_instance(body)
        if (method, path) == ("POST", "/entry/execute/sync"):
            return tenant.execute(body)
        if (method, path) == ("POST", "/investigations/search"):
            return tenant.investigations(body)
        if (method, path) == ("GET", "/user"):
            return {"id": tenant.username, "username": tenant.username}
        raise RefusalError(404, "Not found", f"{method} {path}")

    def _answer(self, record: TenantRequest, status: int, body: Any) -> None:
        record.status = status
        payload = b"" if body is None else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True
