"""`python3 -m Tests tenant demo`: upload -> configure -> test -> run -> status against a fake tenant, offline.

Both fakes run on loopback: the fake tenant (Tests/tenant/fake_tenant.py), which demisto-py talks to unchanged, and
the fake LivePerson (Tests/fake_liveperson) the instance collects from. Each step is the command a user types,
run with the environment a user would set (DEMISTO_BASE_URL, DEMISTO_API_KEY, SSL_CERT_FILE for the fake's CA,
LIVEPERSON_CLIENT_SECRET), which the demo hands to the tool instead of changing its own environment.
"""

from __future__ import annotations

import shlex
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from Tests.fake_liveperson import FakeLivePerson, data
from Tests.tenant import packaging
from Tests.tenant.fake_tenant import FakeTenant

if TYPE_CHECKING:
    from Tests.tenant.cli import Session

INSTANCE = "LivePerson_Audit_Trail_demo"
WRONG_SECRET_INSTANCE = "LivePerson_wrong_secret"


def run_demo(session: Session) -> int:
    from Tests.tenant import cli  # noqa: PLC0415 - cli imports this module lazily

    now = datetime.now(UTC).replace(microsecond=0)
    with FakeLivePerson(seed=7) as liveperson, FakeTenant(trust=liveperson.ca_bundle) as tenant:
        liveperson.add_records(data.generate_backlog(now - timedelta(days=2), now, 300, data.make_rng(7)))
        environment = {
            "DEMISTO_BASE_URL": tenant.url,
            "DEMISTO_API_KEY": tenant.api_key,
            "SSL_CERT_FILE": tenant.ca_bundle,
            "LIVEPERSON_CLIENT_SECRET": liveperson.client_secret,
        }
        session.say(f"fake tenant:     {tenant.url}  (its CA in SSL_CERT_FILE; DEMISTO_API_KEY set, not shown)")
        session.say(f"fake LivePerson: {liveperson.url}  ({len(liveperson.records)} audit records over 2 days)")
        session.say("LIVEPERSON_CLIENT_SECRET set (not shown): the client secret comes from there, never from argv\n")

        outcomes: list[tuple[str, int, int]] = []

        def step(title: str, argv: list[str], expected: int = 0, **overrides: str) -> None:
            session.say(f"== {title}\n$ python3 -m Tests tenant {shlex.join(argv)}")
            code = cli.main(argv, environment={**environment, **overrides}, out=session.out, err=session.out)
            outcomes.append((title, code, expected))
            session.say(f"[exit {code}]\n")

        with tempfile.TemporaryDirectory(prefix="liveperson-pack-") as folder:
            if packaging.sdk_installed():
                step("upload (built by demisto-sdk prepare-content)", ["upload"])
            else:
                built = packaging.build_plain(Path(folder))
                session.say("demisto-sdk is not installed here (`bash .ci/lint config` installs it): the demo uploads a")
                session.say("plain zip of the pack instead (metadata, README, the unified integration; no modeling rule)")
                step("upload (plain zip)", ["upload", "--zip", str(built)])

        endpoints = [f"auth_server_url={liveperson.host}", f"domain_api_url={liveperson.url}"]
        settings = [f"account_id={liveperson.account_id}", f"client_id={liveperson.client_id}", "first_fetch=3 days"]
        step(
            "configure, refused before anything is sent: a misspelt name, a wrong type, a secret on the command line",
            ["configure", "--name", INSTANCE, "acount_id=1", "lpa=maybe", "client_secret=oops", *endpoints],
            expected=1,
        )
        step("configure", ["configure", "--name", INSTANCE, *endpoints, *settings, "isFetchEvents=true"])
        step("test", ["test", INSTANCE])
        step("run", ["run", INSTANCE, "!liveperson-get-events limit=5"])

        fetched = tenant.fetch(INSTANCE)
        session.say(f"== the tenant's scheduler runs one fetch of {INSTANCE}: {fetched['events_sent']} events sent\n")
        step("status", ["status", INSTANCE])

        wrong_secret = ["configure", "--name", WRONG_SECRET_INSTANCE, *endpoints, *settings]
        step("configure another instance with a wrong client secret", wrong_secret, LIVEPERSON_CLIENT_SECRET="not-the-secret")
        step("test names the failing stage", ["test", WRONG_SECRET_INSTANCE], expected=1)

        calls = Counter(f"{request.method} {request.path}" for request in tenant.requests)
        session.say("the fake tenant received: " + ", ".join(f"{path} x{count}" for path, count in sorted(calls.items())))
    failed = [title for title, code, expected in outcomes if code != expected]
    session.say("demo: " + ("every step answered as expected" if not failed else "unexpected outcome in: " + "; ".join(failed)))
    return 1 if failed else 0
