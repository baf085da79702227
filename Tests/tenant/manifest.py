"""The integration's manifest as the contract for an instance, and the user's values checked against it.

Parameter names, required flags, types and options are read from the manifest (LivePersonAuditTrail.yml) at run
time, so a changed manifest changes what `configure` accepts without touching this file. Everything here is pure:
values in, typed values or a `ConfigurationError` that names every problem out.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "Packs" / "LivePerson" / "Integrations" / "LivePersonAuditTrail" / "LivePersonAuditTrail.yml"
# Environment variables that may hold a secret parameter are named after it: LIVEPERSON_CLIENT_SECRET for the
# credentials' "Client secret", as the local runner (Tests/runner.py) already names its LIVEPERSON_* settings.
SECRET_VARIABLE_PREFIX = "LIVEPERSON_"

# The manifest's parameter type codes.
SHORT_TEXT = 0
NUMBER = 1
ENCRYPTED = 4
BOOLEAN = 8
CREDENTIALS = 9
LONG_TEXT = 12
SINGLE_SELECT = 15
MULTI_SELECT = 16
FETCH_INTERVAL = 19
TYPE_NAMES = {
    SHORT_TEXT: "short text",
    NUMBER: "number",
    ENCRYPTED: "encrypted text",
    BOOLEAN: "boolean",
    CREDENTIALS: "credentials",
    LONG_TEXT: "long text",
    SINGLE_SELECT: "single select",
    MULTI_SELECT: "multi select",
    FETCH_INTERVAL: "fetch interval (minutes)",
}
TRUE_WORDS, FALSE_WORDS = {"true"}, {"false"}
CLEARABLE_TYPES = (SHORT_TEXT, NUMBER, LONG_TEXT, SINGLE_SELECT, MULTI_SELECT, FETCH_INTERVAL)


class ConfigurationError(Exception):
    """The values do not make a valid instance; `problems` names each one, in the user's terms."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems

    def __str__(self) -> str:
        return "the instance configuration was refused:\n" + "\n".join(f"  - {problem}" for problem in self.problems)


def _snake(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


@dataclass(frozen=True)
class Parameter:
    """One entry of the manifest's `configuration`."""

    name: str
    display: str
    type: int
    required: bool
    default: str | None
    options: tuple[str, ...]
    display_password: str
    hidden: bool

    @classmethod
    def from_manifest(cls, entry: Mapping[str, Any]) -> Parameter:
        default = entry.get("defaultvalue")
        return cls(
            name=str(entry["name"]),
            display=str(entry.get("display") or entry["name"]),
            type=int(entry.get("type", SHORT_TEXT)),
            required=bool(entry.get("required", False)),
            default=None if default is None else str(default),
            options=tuple(str(option) for option in entry.get("options") or ()),
            display_password=str(entry.get("displaypassword") or ""),
            hidden=entry.get("hidden") is True,
        )

    @property
    def is_secret(self) -> bool:
        return self.type in (ENCRYPTED, CREDENTIALS)

    @property
    def identifier_key(self) -> str | None:
        """For credentials, the key=value name of the identifier: the display in snake case ("Client ID" -> client_id)."""
        return _snake(self.display) if self.type == CREDENTIALS else None

    @property
    def secret_key(self) -> str | None:
        """The name a user might type for the secret part, only to refuse it on the command line."""
        if self.type == CREDENTIALS:
            return _snake(self.display_password or "password")
        return self.name if self.type == ENCRYPTED else None

    @property
    def secret_variable(self) -> str | None:
        """The environment variable the secret may come from (LIVEPERSON_CLIENT_SECRET for "Client secret")."""
        if not self.is_secret:
            return None
        label = self.display_password if self.type == CREDENTIALS and self.display_password else self.display
        return SECRET_VARIABLE_PREFIX + _snake(label).upper()

    @property
    def secret_label(self) -> str:
        return (self.display_password or "password") if self.type == CREDENTIALS else self.display

    def describe(self) -> str:
        return f"{self.name} ({self.display}, {TYPE_NAMES.get(self.type, f'type {self.type}')})"


@dataclass(frozen=True)
class Manifest:
    integration_id: str
    display: str
    parameters: tuple[Parameter, ...]
    commands: tuple[str, ...]

    @classmethod
    def load(cls, path: Path = MANIFEST) -> Manifest:
        document = yaml.safe_load(path.read_text())
        return cls(
            integration_id=str(document["commonfields"]["id"]),
            display=str(document.get("display") or document["name"]),
            parameters=tuple(Parameter.from_manifest(entry) for entry in document.get("configuration") or ()),
            commands=tuple(str(command["name"]) for command in (document.get("script") or {}).get("commands") or ()),
        )

    def parameter(self, name: str) -> Parameter | None:
        return next((parameter for parameter in self.parameters if parameter.name == name), None)

    def settable(self) -> list[Parameter]:
        return [parameter for parameter in self.parameters if not parameter.hidden]

    def keys(self) -> dict[str, tuple[Parameter, str]]:
        """Every key a user may type: parameter names, and the credentials' identifier alias. Value: (parameter, part)."""
        keys: dict[str, tuple[Parameter, str]] = {}
        for parameter in self.settable():
            keys[parameter.name] = (parameter, "identifier" if parameter.type == CREDENTIALS else "value")
            if parameter.identifier_key:
                keys[parameter.identifier_key] = (parameter, "identifier")
        return keys

    def secret_keys(self) -> dict[str, Parameter]:
        """Keys that would carry a secret: refused wherever they appear (command line or params file)."""
        keys: dict[str, Parameter] = {}
        for parameter in self.settable():
            if parameter.secret_key:
                keys[parameter.secret_key] = parameter
            if parameter.type == CREDENTIALS:
                keys[f"{parameter.name}.password"] = parameter
        return keys


# ------------------------------------------------------------------ what the user typed


def parse_assignments(words: list[str]) -> dict[str, str]:
    """`key=value` words; a word without `=` is refused."""
    values: dict[str, str] = {}
    problems = []
    for word in words:
        key, separator, value = word.partition("=")
        if not separator or not key:
            problems.append(f"{word!r} is not key=value")
        else:
            values[key.strip()] = value
    if problems:
        raise ConfigurationError(problems)
    return values


def load_params_file(path: Path) -> dict[str, Any]:
    """A JSON object of parameter values (the same keys as on the command line)."""
    try:
        document = json.loads(path.read_text())
    except OSError as error:
        raise ConfigurationError([f"cannot read the params file {path}: {error.strerror}"]) from None
    except ValueError as error:
        raise ConfigurationError([f"the params file {path} is not JSON: {error}"]) from None
    if not isinstance(document, dict):
        raise ConfigurationError([f"the params file {path} must hold a JSON object of parameter values"])
    return document


# ------------------------------------------------------------------ checking values against the manifest


def _secret_refusal(parameter: Parameter, key: str) -> str:
    return (
        f"{key}: the {parameter.secret_label} never goes on the command line or into a file; "
        f"set {parameter.secret_variable} or leave it unset to be asked for it"
    )


def _as_text(parameter: Parameter, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{parameter.name} takes {TYPE_NAMES[parameter.type]}, not {type(value).__name__} {value!r}")
    return str(value)


def _as_boolean(parameter: Parameter, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise ValueError(f"{parameter.name} is a boolean: true or false, not {value!r}")


def _as_whole_number(parameter: Parameter, value: Any, minimum: int | None = None) -> str:
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not re.fullmatch(r"-?\d+", text) or (minimum is not None and int(text) < minimum):
        floor = f" of at least {minimum}" if minimum is not None else ""
        raise ValueError(f"{parameter.name} takes {TYPE_NAMES[parameter.type]}: a whole number{floor}, not {value!r}")
    return str(int(text))


def _as_choice(parameter: Parameter, value: Any) -> str:
    text = _as_text(parameter, value)
    if text not in parameter.options:
        raise ValueError(f"{parameter.name} must be one of {', '.join(parameter.options)}, not {text!r}")
    return text


def _as_choices(parameter: Parameter, value: Any) -> list[str]:
    items = value if isinstance(value, list) else [item.strip() for item in str(value).split(",") if item.strip()]
    unknown = [item for item in items if str(item) not in parameter.options]
    if unknown:
        raise ValueError(f"{parameter.name} takes some of {', '.join(parameter.options)}; not {', '.join(map(str, unknown))}")
    return [str(item) for item in items]


def typed_value(parameter: Parameter, value: Any) -> Any:
    """The value in the type the manifest declares, or ValueError naming the parameter and the expected type."""
    if value == "" and parameter.type in CLEARABLE_TYPES:
        return [] if parameter.type == MULTI_SELECT else ""  # clears an optional setting; see `missing_required`
    if parameter.type == BOOLEAN:
        return _as_boolean(parameter, value)
    if parameter.type == NUMBER:
        return _as_whole_number(parameter, value)
    if parameter.type == FETCH_INTERVAL:
        return _as_whole_number(parameter, value, minimum=1)
    if parameter.type == SINGLE_SELECT:
        return _as_choice(parameter, value)
    if parameter.type == MULTI_SELECT:
        return _as_choices(parameter, value)
    return _as_text(parameter, value)


def _unknown_key(manifest: Manifest, key: str) -> str:
    known = sorted(manifest.keys())
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown parameter {key!r}{hint}; the integration's parameters are: {', '.join(known)}"


def _credentials_identifier(parameter: Parameter, key: str, value: Any) -> tuple[str | None, str | None]:
    """(identifier, problem) for a credentials value given as text, or as an object from a params file."""
    if isinstance(value, dict):
        if value.get("password"):
            return None, _secret_refusal(parameter, f"{key}.password")
        value = value.get("identifier", "")
    if not isinstance(value, str):
        return None, f"{key} is the {parameter.display}: text, not {type(value).__name__}"
    return value, None


def check_values(manifest: Manifest, given: Mapping[str, Any]) -> dict[str, Any]:
    """The user's values by parameter name, typed as the manifest declares; refuses unknown names, secrets and bad types.

    A credentials parameter comes back as {"identifier": ...}: its secret never comes from here (see `read_secret`).
    """
    keys, secret_keys = manifest.keys(), manifest.secret_keys()
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in given.items():
        if key in secret_keys:
            problems.append(_secret_refusal(secret_keys[key], key))
            continue
        if key not in keys:
            problems.append(_unknown_key(manifest, key))
            continue
        parameter, part = keys[key]
        if parameter.type == ENCRYPTED:
            problems.append(_secret_refusal(parameter, key))
        elif part == "identifier":
            identifier, problem = _credentials_identifier(parameter, key, value)
            if problem:
                problems.append(problem)
            else:
                values[parameter.name] = {"identifier": identifier}
        else:
            try:
                values[parameter.name] = typed_value(parameter, value)
            except ValueError as error:
                problems.append(str(error))
    if problems:
        raise ConfigurationError(problems)
    return values


def _has_value(parameter: Parameter, value: Any) -> bool:
    if parameter.type == CREDENTIALS:
        return isinstance(value, dict) and bool(value.get("identifier"))
    return value not in (None, "", [])


def missing_required(manifest: Manifest, values: Mapping[str, Any]) -> list[str]:
    """Required parameters with neither a value nor a manifest default (secrets are checked when they are read)."""
    problems = []
    for parameter in manifest.settable():
        if not parameter.required or parameter.type == ENCRYPTED:
            continue
        if parameter.name in values:
            present = _has_value(parameter, values[parameter.name])
        else:
            present = parameter.type != CREDENTIALS and bool(parameter.default)
        if not present:
            key = parameter.identifier_key or parameter.name
            problems.append(f"missing required parameter {key} ({parameter.display})")
    credentials = [parameter for parameter in manifest.settable() if parameter.type == CREDENTIALS]
    if credentials and not any(_has_value(parameter, values.get(parameter.name)) for parameter in credentials):
        # Each is optional where the integration takes one of several ways in; with none there is no way in at all.
        named = ", ".join(f"{parameter.identifier_key} ({parameter.display})" for parameter in credentials)
        problems.append(f"missing credentials: give one way in, of {named}")
    return problems


def read_secret(parameter: Parameter, environment: Mapping[str, str], prompt: Callable[[str], str] | None) -> str:
    """The secret of a credentials or encrypted parameter: from its environment variable, else from a prompt."""
    variable = parameter.secret_variable or ""
    secret = environment.get(variable, "")
    if not secret and prompt is not None:
        secret = prompt(f"{parameter.secret_label} for {parameter.name} (input hidden): ")
    if not secret:
        raise ConfigurationError(
            [f"missing the {parameter.secret_label}: set {variable} (it is never taken from the command line)"]
        )
    return secret
