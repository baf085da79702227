"""Fixtures of the tenant tool's tests: the two fakes, the environment a user would set, and the tool's command line."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from Tests.fake_liveperson import FakeLivePerson, data
from Tests.tenant import cli, packaging
from Tests.tenant.client import DEMISTO_PY_VARIABLES
from Tests.tenant.fake_tenant import FakeTenant


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


@pytest.fixture(autouse=True)
def _no_tenant_in_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own DEMISTO_* variables must not leak into the tests."""
    for name in (*DEMISTO_PY_VARIABLES, "LIVEPERSON_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def liveperson() -> Iterator[FakeLivePerson]:
    with FakeLivePerson(seed=5) as fake:
        now = datetime.now(UTC).replace(microsecond=0)
        fake.add_records(data.generate_backlog(now - timedelta(days=1), now, 200, data.make_rng(5)))
        yield fake


@pytest.fixture
def tenant(liveperson: FakeLivePerson) -> Iterator[FakeTenant]:
    with FakeTenant(trust=liveperson.ca_bundle) as fake:
        yield fake


@pytest.fixture
def environment(tenant: FakeTenant, liveperson: FakeLivePerson) -> dict[str, str]:
    return {
        "DEMISTO_BASE_URL": tenant.url,
        "DEMISTO_API_KEY": tenant.api_key,
        "SSL_CERT_FILE": tenant.ca_bundle,
        "LIVEPERSON_CLIENT_SECRET": liveperson.client_secret,
    }


@pytest.fixture
def plain_zip(tmp_path: Path) -> Path:
    folder = tmp_path / "pack"
    folder.mkdir()
    return packaging.build_plain(folder)


@pytest.fixture
def tool(environment: dict[str, str]) -> Any:
    """Runs `python3 -m Tests tenant ARGV` in-process with the environment (plus overrides); returns an Outcome."""

    def run(*argv: str, prompt: Any = None, **overrides: str) -> Outcome:
        out, err = io.StringIO(), io.StringIO()
        code = cli.main(list(argv), environment={**environment, **overrides}, out=out, err=err, prompt=prompt)
        return Outcome(code, out.getvalue(), err.getvalue())

    return run


@pytest.fixture
def endpoints(liveperson: FakeLivePerson) -> list[str]:
    """The settings that point an instance at the fake LivePerson."""
    return [
        f"auth_server_url={liveperson.host}",
        f"domain_api_url={liveperson.url}",
        f"account_id={liveperson.account_id}",
        f"client_id={liveperson.client_id}",
    ]
