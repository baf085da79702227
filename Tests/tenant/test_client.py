"""The tenant from demisto-py's variables, and every failure turned into what to check, with the key never shown."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from Tests.tenant.client import TenantClient, TenantError, TenantSettings
from Tests.tenant.fake_tenant import FakeTenant

# demisto-py calls urllib3 methods that urllib3 deprecates: their warnings are not this project's to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:demisto_client.demisto_api.rest")


def settings_error(environment: dict[str, str]) -> TenantError:
    with pytest.raises(TenantError) as raised:
        TenantSettings.from_environment(environment)
    return raised.value


# ------------------------------------------------------------------ settings


def test_settings_come_from_demisto_py_variables(tmp_path: Any) -> None:
    """
    Given demisto-py's variables for a Cortex XSIAM tenant with an advanced key
    When the settings are read
    Then each is taken as given, the key is kept, and the key is not in the settings' repr
    """
    ca = tmp_path / "ca.pem"
    ca.write_text("pem")
    settings = TenantSettings.from_environment(
        {
            "DEMISTO_BASE_URL": "https://api-tenant.example.test/",
            "DEMISTO_ADVANCED_API_KEY": "advanced-key-value",
            "XSIAM_AUTH_ID": "17",
            "DEMISTO_VERIFY_SSL": "False",
            "SSL_CERT_FILE": str(ca),
            "HTTPS_PROXY": "http://proxy.test:3128",
        }
    )
    assert settings == TenantSettings(
        "https://api-tenant.example.test", "advanced-key-value", True, "17", False, str(ca), "http://proxy.test:3128"
    )
    assert "advanced-key-value" not in repr(settings)
    assert (
        TenantSettings.from_environment(
            {"DEMISTO_BASE_URL": "http://x", "DEMISTO_API_KEY_ID": "3", "DEMISTO_API_KEY": "k"}
        ).auth_id
        == "3"
    )


@pytest.mark.parametrize(
    ("environment", "message", "check"),
    [
        ({}, "DEMISTO_BASE_URL is not set", "API URL"),
        ({"DEMISTO_BASE_URL": "tenant.example.test"}, "is not an http(s) URL", "API URL"),
        ({"DEMISTO_BASE_URL": "https://t"}, "no API key", "DEMISTO_API_KEY"),
        (
            {"DEMISTO_BASE_URL": "https://t", "DEMISTO_API_KEY": "a", "DEMISTO_ADVANCED_API_KEY": "b"},
            "both DEMISTO_API_KEY and DEMISTO_ADVANCED_API_KEY",
            "only the one",
        ),
        ({"DEMISTO_BASE_URL": "https://t", "DEMISTO_API_KEY": "a", "XSIAM_AUTH_ID": "abc"}, "is not a key ID", "ID column"),
        ({"DEMISTO_BASE_URL": "https://t", "DEMISTO_ADVANCED_API_KEY": "a"}, "advanced API key needs its ID", "XSIAM_AUTH_ID"),
        ({"DEMISTO_BASE_URL": "https://t", "DEMISTO_API_KEY": "a", "DEMISTO_VERIFY_SSL": "maybe"}, "not true or false", "true"),
        ({"DEMISTO_BASE_URL": "https://t", "DEMISTO_API_KEY": "a", "SSL_CERT_FILE": "/nonexistent.pem"}, "is not a file", "PEM"),
    ],
)
def test_bad_settings_say_what_to_check(environment: dict[str, str], message: str, check: str) -> None:
    """
    Given a missing or malformed tenant variable
    When the settings are read
    Then the failure names the variable and says what to check
    """
    error = settings_error(environment)
    assert message in error.message and check in error.check


# ------------------------------------------------------------------ failures on the wire


def client_for(base_url: str, key: str = "the-api-key-1234", **extra: str) -> TenantClient:
    return TenantClient(TenantSettings.from_environment({"DEMISTO_BASE_URL": base_url, "DEMISTO_API_KEY": key, **extra}))


def failure(client: TenantClient) -> TenantError:
    with pytest.raises(TenantError) as raised:
        client.search()
    assert "the-api-key-1234" not in str(raised.value)
    return raised.value


@pytest.fixture
def tenant() -> Iterator[FakeTenant]:
    with FakeTenant(api_key="the-api-key-1234") as fake:
        yield fake


def test_a_wrong_key_says_check_the_key_and_auth_id(tenant: FakeTenant) -> None:
    """
    Given a tenant that does not know the key
    When the integrations are searched
    Then the failure is the 401, pointing at the key variables and at XSIAM_AUTH_ID
    """
    error = failure(client_for(tenant.url, key="wrong-key-5678", SSL_CERT_FILE=tenant.ca_bundle))
    assert "refused the API key (401)" in error.message
    assert "DEMISTO_API_KEY" in error.check and "XSIAM_AUTH_ID" in error.check


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # verification off, on purpose
def test_an_untrusted_certificate_says_check_tls(tenant: FakeTenant) -> None:
    """
    Given a tenant whose certificate the client does not trust (its CA not given)
    When the integrations are searched
    Then the failure is TLS, pointing at SSL_CERT_FILE and DEMISTO_VERIFY_SSL; with verification off it works
    """
    error = failure(client_for(tenant.url))
    assert "TLS connection" in error.message and "SSL_CERT_FILE" in error.check
    assert client_for(tenant.url, DEMISTO_VERIFY_SSL="false").search()["configurations"] == []


def test_nothing_listening_says_check_the_url() -> None:
    """
    Given a URL where nothing listens
    When the integrations are searched
    Then the failure says the tenant cannot be reached and to check the API URL and the network
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = failure(client_for(f"http://127.0.0.1:{port}"))
    assert "cannot reach http://127.0.0.1" in error.message
    assert "API URL" in error.check and "network" in error.check


def test_a_wrong_path_says_check_the_api_url(tenant: FakeTenant) -> None:
    """
    Given a base URL with a path the tenant does not serve
    When the integrations are searched
    Then the failure is the 404, pointing at the API URL
    """
    error = failure(client_for(tenant.url + "/ui", SSL_CERT_FILE=tenant.ca_bundle))
    assert "no such endpoint (404)" in error.message and "API URL" in error.check


class _WebPage(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = b"<html>login</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


def test_a_web_page_instead_of_the_api_says_check_the_api_url() -> None:
    """
    Given a URL that answers with a web page (the tenant's UI address instead of its API URL)
    When the integrations are searched
    Then the failure says the answer is not JSON and to use the API URL
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), _WebPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        error = failure(client_for(f"http://127.0.0.1:{server.server_address[1]}"))
    finally:
        server.shutdown()
        server.server_close()
    assert "not JSON" in error.message and "API URL" in error.check


def test_an_auth_id_sends_the_xsiam_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Given a Cortex XSIAM-style fake (API under /xsoar, x-xdr-auth-id required) and the key with its ID
    When the integrations are searched with the ID, a wrong ID, and an advanced key
    Then the right ID works, the wrong one is a 401, and the advanced key is signed as the fake expects
    """
    with FakeTenant(api_key="the-api-key-1234", auth_id="42", tls=False) as tenant:
        client = client_for(tenant.url, XSIAM_AUTH_ID="42")
        assert client.api_url == f"{tenant.url}/xsoar"
        assert client.search()["instances"] == []
        assert tenant.requests[-1].path == "/xsoar/settings/integration/search"
        assert tenant.requests[-1].headers["x-xdr-auth-id"] == "42"
        assert "401" in failure(client_for(tenant.url, XSIAM_AUTH_ID="43")).message
    with FakeTenant(api_key="the-api-key-1234", auth_id="42", advanced=True, tls=False) as tenant:
        environment = {"DEMISTO_BASE_URL": tenant.url, "DEMISTO_ADVANCED_API_KEY": "the-api-key-1234", "XSIAM_AUTH_ID": "42"}
        assert TenantClient(TenantSettings.from_environment(environment)).search()["configurations"] == []
        assert "401" in failure(client_for(tenant.url, XSIAM_AUTH_ID="42")).message  # the same key, unsigned


def test_the_shell_variables_do_not_override_the_settings(tenant: FakeTenant, monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Given a shell whose demisto-py variables point elsewhere (another key, an auth ID, a proxy)
    When a client is made from explicit settings
    Then only the settings apply, and the shell's variables are back afterwards
    """
    monkeypatch.setenv("XSIAM_AUTH_ID", "99")
    monkeypatch.setenv("DEMISTO_API_KEY", "someone-elses-key")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    client = client_for(tenant.url, SSL_CERT_FILE=tenant.ca_bundle)
    assert client.search()["instances"] == []
    assert "x-xdr-auth-id" not in tenant.requests[-1].headers
    assert os.environ["XSIAM_AUTH_ID"] == "99"
