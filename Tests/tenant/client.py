"""A Cortex XSOAR / XSIAM tenant through demisto-py (`demisto_client`), with every failure turned into what to check.

The tenant comes from demisto-py's own environment variables: DEMISTO_BASE_URL, DEMISTO_API_KEY (or
DEMISTO_ADVANCED_API_KEY for an advanced key), XSIAM_AUTH_ID (or DEMISTO_API_KEY_ID: the key's ID, needed by Cortex
XSIAM and XSOAR 8), DEMISTO_VERIFY_SSL, SSL_CERT_FILE, HTTPS_PROXY. The key is held in memory only, never printed:
messages are scrubbed of it, and `TenantSettings` leaves it out of its repr.

Requests and answers follow what demisto-sdk sends to the same endpoints (xsoar_api_client.py): the integration
search, `PUT /settings/integration`, `POST /settings/integration/test` answering {"success", "message"}, the pack
upload, and commands run in an investigation with `POST /entry/execute/sync`.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import demisto_client
import urllib3
from demisto_client.demisto_api.rest import ApiException

PLAYGROUND_TYPE = 9
ERROR_ENTRY = 4
# Variables demisto-py reads by itself when an argument is missing; hidden while it is configured, so that only the
# settings given here apply (the demo and the tests pass their own, whatever the shell holds).
DEMISTO_PY_VARIABLES = (
    "DEMISTO_BASE_URL",
    "DEMISTO_API_KEY",
    "DEMISTO_ADVANCED_API_KEY",
    "DEMISTO_API_KEY_ID",
    "XSIAM_AUTH_ID",
    "DEMISTO_USERNAME",
    "DEMISTO_PASSWORD",
    "DEMISTO_VERIFY_SSL",
    "SSL_CERT_FILE",
    "HTTPS_PROXY",
    "HTTP_PROXY",
)
TRUE_WORDS, FALSE_WORDS = {"true", "1", "yes"}, {"false", "0", "no"}
API_URL_HINT = (
    "DEMISTO_BASE_URL is the tenant's API URL (Cortex XSIAM / XSOAR 8: Settings > Configurations > API Keys > "
    "Copy API URL, https://api-<tenant>...; Cortex XSOAR 6: the server's URL)"
)


class TenantError(Exception):
    """A failure, what it was, and what to check. Shown without a traceback."""

    def __init__(self, message: str, check: str):
        super().__init__(message)
        self.message = message
        self.check = check

    def __str__(self) -> str:
        return f"{self.message}\ncheck: {self.check}"


# ------------------------------------------------------------------ settings


def _flag(environment: Mapping[str, str], name: str, default: bool) -> bool:
    text = environment.get(name, "").strip().lower()
    if not text:
        return default
    if text not in TRUE_WORDS | FALSE_WORDS:
        raise TenantError(f"{name}={environment[name]!r} is not true or false", f"set {name} to true or false")
    return text in TRUE_WORDS


@dataclass(frozen=True)
class TenantSettings:
    base_url: str
    api_key: str = field(repr=False)
    advanced: bool = False
    auth_id: str | None = None
    verify_ssl: bool = True
    ca_file: str | None = None
    proxy: str | None = None

    @classmethod
    def from_environment(cls, environment: Mapping[str, str]) -> TenantSettings:
        base_url = environment.get("DEMISTO_BASE_URL", "").strip().rstrip("/")
        if not base_url:
            raise TenantError("DEMISTO_BASE_URL is not set", API_URL_HINT)
        if not base_url.startswith(("https://", "http://")):
            raise TenantError(f"DEMISTO_BASE_URL={base_url!r} is not an http(s) URL", API_URL_HINT)
        standard, advanced = environment.get("DEMISTO_API_KEY", ""), environment.get("DEMISTO_ADVANCED_API_KEY", "")
        if not standard and not advanced:
            raise TenantError(
                "no API key: DEMISTO_API_KEY is not set",
                "create an API key on the tenant (Settings > API Keys) and set DEMISTO_API_KEY (a standard key) or "
                "DEMISTO_ADVANCED_API_KEY (an advanced key), with its ID in XSIAM_AUTH_ID",
            )
        if standard and advanced:
            raise TenantError("both DEMISTO_API_KEY and DEMISTO_ADVANCED_API_KEY are set", "set only the one of the key's kind")
        auth_id = (environment.get("XSIAM_AUTH_ID") or environment.get("DEMISTO_API_KEY_ID") or "").strip() or None
        if auth_id is not None and not auth_id.isdigit():
            raise TenantError(f"XSIAM_AUTH_ID={auth_id!r} is not a key ID", "XSIAM_AUTH_ID is the number in the key's ID column")
        if advanced and auth_id is None:
            raise TenantError("an advanced API key needs its ID", "set XSIAM_AUTH_ID to the number in the key's ID column")
        ca_file = environment.get("SSL_CERT_FILE") or None
        if ca_file and not Path(ca_file).is_file():
            raise TenantError(f"SSL_CERT_FILE={ca_file} is not a file", "point SSL_CERT_FILE at a PEM bundle, or unset it")
        proxy_variable = "HTTPS_PROXY" if base_url.startswith("https://") else "HTTP_PROXY"
        return cls(
            base_url=base_url,
            api_key=advanced or standard,
            advanced=bool(advanced),
            auth_id=auth_id,
            verify_ssl=_flag(environment, "DEMISTO_VERIFY_SSL", True),
            ca_file=ca_file,
            proxy=environment.get(proxy_variable) or None,
        )


@contextlib.contextmanager
def _demisto_py_variables_hidden() -> Iterator[None]:
    saved = {name: os.environ.pop(name) for name in DEMISTO_PY_VARIABLES if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def configure_demisto_client(settings: TenantSettings) -> Any:
    """demisto-py's client for these settings (and only these: its own environment look-ups are hidden meanwhile)."""
    with _demisto_py_variables_hidden():
        return demisto_client.configure(
            base_url=settings.base_url,
            api_key=None if settings.advanced else settings.api_key,
            advanced_api_key=settings.api_key if settings.advanced else None,
            auth_id=settings.auth_id,
            verify_ssl=settings.verify_ssl,
            ssl_ca_cert=settings.ca_file,
            proxy=settings.proxy,
        )


# ------------------------------------------------------------------ answers


@dataclass(frozen=True)
class TestVerdict:
    success: bool
    message: str


@dataclass(frozen=True)
class WarRoomEntry:
    type: int
    contents: Any
    format: str

    @property
    def is_error(self) -> bool:
        return self.type == ERROR_ENTRY


# ------------------------------------------------------------------ the client


def _server_message(body: Any) -> str:
    """The reason a server gave in an error body (JSON with detail/error/title, or text), shortened."""
    text = body.decode(errors="replace") if isinstance(body, bytes) else str(body or "")
    try:
        document = json.loads(text)
    except ValueError:
        return text.strip()[:300]
    if isinstance(document, dict):
        for key in ("detail", "error", "title", "message"):
            if document.get(key):
                return str(document[key])[:300]
    return text.strip()[:300]


class TenantClient:
    """One method per tenant call; every failure raises TenantError with what to check."""

    def __init__(self, settings: TenantSettings, api: Any = None):
        self.settings = settings
        self._api = api if api is not None else configure_demisto_client(settings)

    @property
    def api_url(self) -> str:
        """Where demisto-py sends requests (with an auth ID it becomes https://api-<host>/xsoar)."""
        return str(self._api.api_client.configuration.host)

    # -- error translation

    def _scrub(self, text: str) -> str:
        return text.replace(self.settings.api_key, "<redacted>") if self.settings.api_key else text

    def _connection_failure(self, what: str, reason: Any) -> TenantError:
        if isinstance(reason, urllib3.exceptions.SSLError) or "SSL" in type(reason).__name__ or "CERTIFICATE" in str(reason):
            return TenantError(
                f"{what}: the TLS connection to {self.api_url} failed ({reason})",
                "the tenant's certificate: SSL_CERT_FILE for a private CA, or DEMISTO_VERIFY_SSL=false for a test "
                "tenant you trust",
            )
        if isinstance(reason, urllib3.exceptions.ProxyError):
            return TenantError(f"{what}: the proxy failed ({reason})", "HTTPS_PROXY / HTTP_PROXY")
        return TenantError(
            f"{what}: cannot reach {self.api_url} ({type(reason).__name__})",
            f"{API_URL_HINT}; the network, VPN or proxy between here and the tenant",
        )

    def _status_failure(self, what: str, error: ApiException) -> TenantError:
        reason = _server_message(error.body) or str(error.reason or "")
        status = error.status
        if status == 0:
            return self._connection_failure(what, error.reason)
        if status == 401:
            auth_hint = "" if self.settings.auth_id else "; Cortex XSIAM and XSOAR 8 keys also need XSIAM_AUTH_ID"
            return TenantError(
                f"{what}: the tenant refused the API key (401)",
                "DEMISTO_API_KEY (a standard key) or DEMISTO_ADVANCED_API_KEY (an advanced key), and XSIAM_AUTH_ID "
                f"(the key's ID){auth_hint}; the key may have expired",
            )
        if status == 403:
            return TenantError(
                f"{what}: the API key may not do this (403: {reason})", "the API key's role (it needs Instance Administrator)"
            )
        if status == 404:
            return TenantError(f"{what}: {self.api_url} has no such endpoint (404)", API_URL_HINT)
        if status >= 500:
            return TenantError(f"{what}: the tenant failed ({status}: {reason})", "the tenant's status; try again later")
        return TenantError(f"{what}: the tenant refused it ({status}: {reason})", "the message above")

    def _explain(self, what: str, error: Exception) -> TenantError:
        if isinstance(error, ApiException):
            explained = self._status_failure(what, error)
        elif isinstance(error, urllib3.exceptions.MaxRetryError):
            explained = self._connection_failure(what, error.reason)
        else:
            explained = self._connection_failure(what, error)
        return TenantError(self._scrub(explained.message), explained.check)

    def _call(self, what: str, call: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as error:
            raise self._explain(what, error) from None

    def _request(self, what: str, method: str, path: str, body: Any = None, timeout: float = 60) -> Any:
        data, _, _ = self._call(
            what, self._api.generic_request, path, method, body=body, response_type="object", _request_timeout=timeout
        )
        if not isinstance(data, dict | list):
            raise TenantError(f"{what}: the answer is not JSON (is it the web page?)", API_URL_HINT)
        return data

    # -- calls

    def search(self) -> dict[str, Any]:
        """Module configurations, instances and (where the server reports it) their health."""
        answer = self._request("searching the integrations", "POST", "/settings/integration/search", body={})
        if not isinstance(answer, dict):
            raise TenantError("searching the integrations: unexpected answer", API_URL_HINT)
        return answer

    def upload_pack(self, zip_path: Path) -> None:
        # A pack built here is not signed by Palo Alto Networks: the tenant is told not to verify the signature.
        upload = self._api.upload_content_packs
        self._call("uploading the pack", upload, file=str(zip_path), skip_verify="true", _request_timeout=600)

    def save_instance(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._request(f"saving the instance {body.get('name')}", "PUT", "/settings/integration", body=body)

    def test_instance(self, instance: dict[str, Any]) -> TestVerdict:
        """Runs the instance's test-module on the tenant (this takes as long as the integration's test)."""
        try:
            data, _, _ = self._api.generic_request(
                "/settings/integration/test", "POST", body=instance, response_type="object", _request_timeout=240
            )
        except ApiException as error:
            if error.status == 400:  # some servers answer a failed test with 400 and the reason
                return TestVerdict(False, self._scrub(_server_message(error.body)))
            raise self._explain(f"testing {instance.get('name')}", error) from None
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise self._explain(f"testing {instance.get('name')}", error) from None
        if not isinstance(data, dict):
            raise TenantError(f"testing {instance.get('name')}: the answer is not JSON", API_URL_HINT)
        return TestVerdict(bool(data.get("success")), self._scrub(str(data.get("message") or "")))

    def execute(self, investigation_id: str, command: str) -> list[WarRoomEntry]:
        entries = self._call(
            f"running {command.split()[0]}",
            self._api.investigation_add_entries_sync,
            update_entry={"investigationId": investigation_id, "data": command},
            _request_timeout=600,
        )
        return [WarRoomEntry(int(entry.type or 0), entry.contents, str(entry.format or "")) for entry in entries or []]

    def playground_id(self) -> str:
        """The caller's playground: the only one, or the one the API key's user created."""
        found = self._call(
            "looking for the playground",
            self._api.search_investigations,
            filter={"filter": {"type": [PLAYGROUND_TYPE], "page": 0}},
        )
        playgrounds = list(found.data or []) if found else []
        if len(playgrounds) == 1:
            return str(playgrounds[0].id)
        pass_id = "pass --investigation-id (open the Playground in the UI: its ID is in the address)"
        if not playgrounds:
            raise TenantError("the tenant has no playground the API key can see", pass_id)
        user = self._request("reading the API key's user", "GET", "/user")
        mine = [playground for playground in playgrounds if playground.creating_user_id == user.get("username")]
        if not mine:
            raise TenantError(f"{len(playgrounds)} playgrounds, none of them the API key user's", pass_id)
        return str(mine[0].id)
