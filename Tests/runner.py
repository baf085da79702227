"""The local runner: the collector's main job on a fresh clone, against the fake LivePerson or the real one.

    python3 -m Tests demo                              seeded fake, scheduled runs until drained, lost 0 / duplicated 0
    python3 -m Tests run [--state DIR] COMMAND [k=v]   one command against an instance (default state: .state/local)

An instance is a state folder (see Tests/platform_run.py), readable by you alone. `run` uses its params.json;
`configure` writes it from the manifest's defaults and your settings, after checking them the way the integration
does (a value it would refuse is not saved). A real account needs only account_id and one way in: an API key's
app_key and access_token with their secrets (OAuth 1.0), or client_id and its client secret (OAuth 2.0).
A secret is never taken from the command line (others can read a process's arguments): the secret half of each
credentials parameter comes from the environment variable named after it (LIVEPERSON_SECRET, LIVEPERSON_ACCESS_TOKEN_SECRET,
LIVEPERSON_CLIENT_SECRET) or, at a terminal, from a prompt. Other settings may also come from environment variables
LIVEPERSON_ACCOUNT_ID, LIVEPERSON_APP_KEY, LIVEPERSON_ACCESS_TOKEN, LIVEPERSON_CLIENT_ID (likewise
LIVEPERSON_AUTH_SERVER_URL, _DOMAIN_API_URL, _FIRST_FETCH, _MAX_FETCH). `ca_bundle=PATH` is the runner's own: the
instance then trusts that CA (the fake's, say).
Examples:

    python3 -m Tests run configure account_id=12345678 client_id=...     # asks for the client secret
    python3 -m Tests run configure account_id=12345678 app_key=... access_token=...   # asks for the two secrets
    python3 -m Tests run test-module
    python3 -m Tests run fetch-events
    python3 -m Tests run liveperson-get-events limit=5
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from Tests import platform_run
from Tests.tenant.manifest import CREDENTIALS, Manifest, Parameter

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "Packs" / "LivePerson" / "Integrations" / "LivePersonAuditTrail" / "LivePersonAuditTrail.yml"
SETTLE_SECONDS = 120  # the manifest's default settle delay: records younger than this wait for a later run
# Settings that may come from LIVEPERSON_<NAME> (the credentials' identifier halves too: LIVEPERSON_CLIENT_ID ...).
SETTINGS_FROM_ENV = (
    "auth_server_url",
    "account_id",
    *(str(parameter.identifier_key) for parameter in Manifest.load(MANIFEST).parameters if parameter.identifier_key),
    "domain_api_url",
    "first_fetch",
    "max_fetch",
)
DEFAULT_STATE = str(ROOT / ".state" / "local")
DEMO_SECRET_VARIABLE = "FAKE_LIVEPERSON_CLIENT_SECRET"  # the demo's fake's client secret (default: a random one)
RUN_COMMANDS = ("configure", "test-module", "fetch-events", "liveperson-get-events")
# Names `configure` takes besides the manifest's parameters: the runner's CA, and each credentials parameter's
# identifier half (client_id for "Client ID"); the secret halves never come as settings (`secret_parameters`).
RUNNER_SETTINGS = ("ca_bundle",)
Prompt = Callable[[str], str]


class ConfigurationError(Exception):
    """`configure` was given something the instance must not be saved with."""


# ------------------------------------------------------------------ instances


def manifest_parameters() -> list[dict[str, Any]]:
    return list(yaml.safe_load(MANIFEST.read_text())["configuration"])


def manifest_defaults() -> dict[str, Any]:
    """The instance a user gets by leaving every setting at the manifest's default."""
    params: dict[str, Any] = {}
    for parameter in manifest_parameters():
        if "defaultvalue" in parameter:
            value = parameter["defaultvalue"]
            params[parameter["name"]] = value == "true" if parameter["type"] == 8 else value
    return params


def secret_parameters() -> list[Parameter]:
    """The manifest's parameters that hold a secret: each credentials parameter's password half, encrypted ones."""
    return [parameter for parameter in Manifest.load(MANIFEST).parameters if parameter.is_secret]


def identifier_settings() -> dict[str, str]:
    """The setting name of each credentials parameter's identifier half (client_id) and the parameter it fills."""
    return {str(p.identifier_key): p.name for p in secret_parameters() if p.type == CREDENTIALS}


def read_secrets(params: dict[str, Any], environment: Mapping[str, str], prompt: Prompt | None) -> None:
    """Fills each secret the instance needs from its environment variable (LIVEPERSON_CLIENT_SECRET for "Client
    secret"), else from the prompt: one the instance holds already is kept, and one nobody asked for (an optional
    credentials parameter without its identifier) is left out."""
    for parameter in secret_parameters():
        credentials = parameter.type == CREDENTIALS
        value = params.get(parameter.name)
        held = (value or {}).get("password") if credentials and isinstance(value, dict) else value
        wanted = parameter.required or (credentials and isinstance(value, dict) and bool(value.get("identifier")))
        if not (wanted or held):  # a way in the instance does not use: its secret, even if set, would only be half of it
            continue
        secret = environment.get(str(parameter.secret_variable), "")
        if not secret and not held and prompt is not None:
            secret = prompt(f"{parameter.secret_label} for {parameter.name} (input hidden): ")
        if secret and credentials:
            params[parameter.name] = {**(value if isinstance(value, dict) else {}), "password": secret}
        elif secret:
            params[parameter.name] = secret


def refuse_secrets_given_as_settings(settings: Mapping[str, Any]) -> None:
    for parameter in secret_parameters():
        if parameter.secret_key in settings:
            raise ConfigurationError(
                f"{parameter.secret_key} is never taken from the command line, where others can read it: set "
                f"{parameter.secret_variable}, or leave it out to be asked for it."
            )


def check_settings(params: dict[str, Any]) -> None:
    """Reads the settings as the integration does; raises ConfigurationError with its message if it would refuse them."""
    import LivePersonAuditTrail  # noqa: PLC0415 - on the path once platform_run is imported

    try:
        LivePersonAuditTrail.Settings.from_params(params)
    except LivePersonAuditTrail.SettingError as error:
        raise ConfigurationError(str(error)) from error


def configure(
    state: Path, settings: dict[str, Any], environment: Mapping[str, str] | None = None, prompt: Prompt | None = None
) -> dict[str, Any]:
    """Writes params.json (readable by the user alone): the manifest's defaults, what was saved before, then the given
    settings, once they pass the integration's own checks. client_id fills the credentials' identifier, the secrets
    come from `environment` (os.environ by default) or `prompt` (`read_secrets`), never from `settings`; ca_bundle is
    copied to the state as ca.pem."""
    settings = dict(settings)
    environment = os.environ if environment is None else environment
    refuse_secrets_given_as_settings(settings)
    names = [parameter["name"] for parameter in manifest_parameters()]
    identifiers = identifier_settings()
    unknown = sorted(set(settings) - set(names) - set(identifiers) - set(RUNNER_SETTINGS))
    if unknown:
        known = ", ".join(name for name in [*names, *identifiers, *RUNNER_SETTINGS] if name not in identifiers.values())
        raise ConfigurationError(f"Unknown setting {', '.join(unknown)}: the settings are {known}.")
    ca_bundle = settings.pop("ca_bundle", None)
    if ca_bundle is not None and not Path(ca_bundle).is_file():
        raise ConfigurationError(f'"ca_bundle" must be a CA certificate file; there is no file at {ca_bundle}.')
    params = manifest_defaults()
    params.update(json.loads((state / "params.json").read_text()) if (state / "params.json").exists() else {})
    for key in SETTINGS_FROM_ENV:
        if environment.get(f"LIVEPERSON_{key.upper()}"):
            settings.setdefault(key, environment[f"LIVEPERSON_{key.upper()}"])
    for key, name in identifiers.items():
        if key in settings:
            params[name] = {**(params.get(name) or {}), "identifier": settings.pop(key)}
    params.update(settings)
    read_secrets(params, environment, prompt)
    check_settings(params)
    platform_run.private_folder(state)
    platform_run.write_private(state / "params.json", json.dumps(params, indent=1, sort_keys=True))
    if ca_bundle is not None:
        shutil.copyfile(ca_bundle, state / platform_run.CA_BUNDLE)
    return params


def configure_for_fake(state: Path, fake: Any, api_key: bool = False, **settings: Any) -> dict[str, Any]:
    """An instance of the manifest's defaults that talks to the fake LivePerson, plus the given settings.

    As a new user's: account ID, client ID and secret, the Sentinel host found through the (fake's) Domain API; or,
    with `api_key`, the account ID and the fake's API key (its four values, OAuth 1.0) instead of client credentials.
    """
    endpoints = {"domain_api_url": fake.url, "account_id": fake.account_id, "ca_bundle": fake.ca_bundle}
    if api_key:
        app_key, secret, access_token, access_token_secret = fake.api_key
        environment = {"LIVEPERSON_SECRET": secret, "LIVEPERSON_ACCESS_TOKEN_SECRET": access_token_secret}
        return configure(
            state, {**endpoints, "app_key": app_key, "access_token": access_token, **settings}, environment=environment
        )
    secret = {"LIVEPERSON_CLIENT_SECRET": fake.client_secret}  # as a user's environment would hold it
    return configure(state, {**endpoints, "client_id": fake.client_id, **settings}, environment=secret)


def fresh_state(state: Path) -> None:
    if state.exists():
        shutil.rmtree(state)
    platform_run.private_folder(state)


# ------------------------------------------------------------------ what was delivered


def delivered_events(state: Path) -> list[dict[str, Any]]:
    sink = state / "events.ndjson"
    if not sink.exists():
        return []
    return [json.loads(line) for line in sink.read_text().splitlines() if line.strip()]


def record_key(record: dict[str, Any]) -> tuple:
    """What makes two audit records the same record for the comparison (the time to the second, in UTC)."""
    fields = [(name, str(record.get(name))) for name in sorted(record) if name not in ("_time", "changeDate")]
    return (*fields, ("changeDate", str(record.get("changeDate", ""))[:19]))


def compare(expected: Iterable[dict[str, Any]], delivered: Iterable[dict[str, Any]]) -> tuple[int, int]:
    """(lost, duplicated): records of the ground truth never delivered, and deliveries beyond one per record."""
    want, got = Counter(map(record_key, expected)), Counter(map(record_key, delivered))
    lost = sum((want - got).values())
    duplicated = sum((got - want).values())
    return lost, duplicated


def collected_up_to(events: list[dict[str, Any]]) -> str:
    """Where collection stands, as a SOC engineer reads it: the change time of the newest event delivered."""
    if not events:
        return "nothing collected yet"
    newest = max(str(event.get("_time", "")) for event in events)
    return f"collected up to {newest[:19].replace('T', ' ')} UTC"


def integration_context(state: Path) -> dict[str, Any]:
    path = state / "integration_context.json"
    return json.loads(path.read_text()) if path.exists() else {}


def found_hosts(state: Path, before: dict[str, Any]) -> str:
    """The hosts the Domain API gave in this run, in words: the entries of the integration context the run wrote
    (`before` is the context as the run found it), never what an earlier run left in the cache."""
    context = integration_context(state)
    hosts = [
        f"{label} at {entry['value']}"
        for label, key in (("Audit Trail", "audit_host"), ("Sentinel", "sentinel_host"))
        if isinstance(entry := context.get(key), dict) and entry.get("value") and entry != before.get(key)
    ]
    return "the Domain API found " + " and ".join(hosts) if hosts else "no host found through the Domain API in this run"


# ------------------------------------------------------------------ the demo


def progress_bar(done: int, total: int, width: int = 30) -> str:
    filled = width if total == 0 else min(width, round(width * done / total))
    return "[" + "#" * filled + "." * (width - filled) + f"] {done}/{total}"


def left_out(fake: Any, since: datetime, params: dict[str, Any]) -> str:
    """Which of the fake's records the instance's settings leave out, and which setting does it, in words."""
    lpa, automatic = bool(params.get("lpa", True)), bool(params.get("automatic_updates", False))
    selected = len(fake.expected(since=since, lpa=lpa, automatic_updates=automatic))
    reasons = []
    if not automatic:
        count = len(fake.expected(since=since, lpa=lpa, automatic_updates=True)) - selected
        reasons.append(f'{count} automatic updates, as "Include automatic updates" is off')
    if not lpa:
        count = len(fake.expected(since=since, lpa=True, automatic_updates=automatic)) - selected
        reasons.append(f'{count} changes by LivePerson administrators, as "Include changes made by ... (LPA)" is off')
    return "; ".join(reasons) or "none"


def demo(arguments: argparse.Namespace) -> int:
    from Tests.fake_liveperson import FakeLivePerson, data  # noqa: PLC0415 - the fake needs the test packages

    state = Path(arguments.state)
    fresh_state(state)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=arguments.days)
    print(f"Starting the fake LivePerson API with {arguments.days} days of audit records ...", flush=True)
    with FakeLivePerson(seed=arguments.seed, client_secret=os.environ.get(DEMO_SECRET_VARIABLE) or None) as fake:
        rng = data.make_rng(arguments.seed)
        fake.add_records(data.generate_backlog(start, now, arguments.per_day, rng))
        configure_for_fake(state, fake, first_fetch=f"{arguments.days + 1} days", isFetchEvents=True)
        params = json.loads((state / "params.json").read_text())
        since = datetime.now(UTC) - timedelta(days=arguments.days + 1)

        def selected() -> int:
            return len(fake.expected(since=since, lpa=params.get("lpa", True), automatic_updates=False))

        total = selected()
        print(f"  {len(fake.records)} records at {fake.url}; the instance's settings select {total} of them.")
        print(f"  Left out: {left_out(fake, since, params)}.")
        print(f"Instance: only account ID, client ID and secret, the fake's Domain API URL and its CA; state in {state}/\n")

        outcome = platform_run.run_command(state, "test-module")
        print(f"test-module: {platform_run.readable(outcome.results[-1]) if outcome.results else outcome.error}")
        if not outcome.ok or outcome.results[-1] != "ok":
            return 1
        print(f"  ({found_hosts(state, {})})\n")

        print(
            "Each cycle is one scheduled fetch-events run (every minute on the platform). Before each of the first "
            f"{arguments.append_cycles} runs, new changes arrive in the fake: the number to collect grows by them."
        )
        cycle, quiet_cycles = 0, 0
        while quiet_cycles < 2 and cycle < arguments.max_cycles:
            cycle += 1
            arrived = 0
            if cycle <= arguments.append_cycles:
                fake.add_records(data.live_traffic(datetime.now(UTC), rng))
                previous, total = total, selected()
                arrived = total - previous
            calls_before = Counter(entry.endpoint for entry in fake.requests)
            # After the arrivals, the platform's later runs come a few minutes on: past the settle delay.
            clock_at = None if cycle <= arguments.append_cycles else time.time() + SETTLE_SECONDS + 60
            if cycle == arguments.append_cycles + 1:
                print(
                    f"  (Changes are collected once they are {SETTLE_SECONDS} s old, the settle delay, so that one "
                    "LivePerson shows late is still collected once: the runs below are a few minutes later.)"
                )
            outcome = platform_run.run_command(state, "fetch-events", clock_at=clock_at)
            calls = Counter(entry.endpoint for entry in fake.requests) - calls_before
            delivered = delivered_events(state)
            print(
                f"cycle {cycle:2d} {progress_bar(len(delivered), total)} {f'+{arrived} new' if arrived else '':>8}"
                f"  sent {outcome.events_sent:5d}"
                f"  API calls {sum(calls.values()):3d} (domain {calls['domain']}, token {calls['token']}, audit {calls['audit']})"
                f"  {outcome.seconds:5.2f} s  {collected_up_to(delivered)}"
                + (f"  ERROR {outcome.error}" if outcome.error else ""),
                flush=True,
            )
            quiet_cycles = quiet_cycles + 1 if outcome.events_sent == 0 and cycle > arguments.append_cycles else 0

        print("\n!liveperson-get-events limit=5")
        outcome = platform_run.run_command(state, "liveperson-get-events", {"limit": "5"})
        for entry in outcome.results:
            print(platform_run.readable(entry))

        expected = fake.expected(since=since, lpa=params.get("lpa", True), automatic_updates=False)
        delivered = delivered_events(state)
        lost, duplicated = compare(expected, delivered)
        print(
            f"Verification: the fake holds {len(fake.records)} records, the settings select {len(expected)} of them "
            f"(left out: {left_out(fake, since, params)}); {len(delivered)} delivered: lost {lost}, duplicated {duplicated}"
        )
        return 0 if lost == 0 and duplicated == 0 else 1


# ------------------------------------------------------------------ command line


def terminal_prompt() -> Prompt | None:
    """getpass at a terminal; None otherwise (a missing secret is then named, not waited for)."""
    return getpass.getpass if sys.stdin.isatty() else None


def shown_settings(params: dict[str, Any]) -> dict[str, Any]:
    """The settings as configure prints them: a secret only as <set>."""
    secrets = {parameter.name: parameter.type for parameter in secret_parameters()}
    shown = dict(params)
    for name, kind in secrets.items():
        value = shown.get(name)
        if kind == CREDENTIALS and isinstance(value, dict):
            shown[name] = {**value, "password": "<set>" if value.get("password") else "<not set>"}
        elif value:
            shown[name] = "<set>"
    return shown


def run(arguments: argparse.Namespace) -> int:
    state = Path(arguments.state)
    if arguments.command == "configure":
        try:
            params = configure(state, platform_run.parse_args(arguments.args), prompt=terminal_prompt())
        except ConfigurationError as error:
            print(f"configure: {error} Nothing was saved.")
            return 1
        print(json.dumps(shown_settings(params), indent=1, sort_keys=True))
        return 0
    if not (state / "params.json").exists():
        try:
            configure(state, {}, prompt=terminal_prompt())
        except ConfigurationError as error:
            print(
                f"No instance in {state} yet ({error}). Configure one first:\n"
                f"  python3 -m Tests run{'' if arguments.state == DEFAULT_STATE else f' --state {state}'} configure "
                "account_id=... client_id=...   (the client secret: asked for, or from LIVEPERSON_CLIENT_SECRET)"
            )
            return 1
    context_before = integration_context(state)
    outcome = platform_run.run_command(state, arguments.command, platform_run.parse_args(arguments.args))
    for entry in outcome.results:
        print(platform_run.readable(entry))
    status = "ok" if outcome.ok else "error"
    where = found_hosts(state, context_before) if arguments.command == "test-module" else collected_up_to(delivered_events(state))
    print(f"[{arguments.command}: {status}, {outcome.events_sent} events sent, {outcome.seconds:.2f} s; {where}]")
    return 0 if outcome.ok else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m Tests", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="mode", required=True)
    demo_parser = commands.add_parser("demo", help="the collector against a seeded fake LivePerson")
    demo_parser.add_argument("--days", type=int, default=3)
    demo_parser.add_argument("--per-day", type=int, default=8000)
    demo_parser.add_argument("--seed", type=int, default=7)
    demo_parser.add_argument("--append-cycles", type=int, default=3, help="cycles that see new records arrive before they run")
    demo_parser.add_argument("--max-cycles", type=int, default=30)
    demo_parser.add_argument("--state", default=str(ROOT / ".state" / "demo"))
    run_parser = commands.add_parser(
        "run",
        help="one command against an instance",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run_parser.add_argument("--state", default=DEFAULT_STATE, help="the instance's folder (default: .state/local)")
    run_parser.add_argument("command", nargs="?", choices=RUN_COMMANDS, help="what to run")
    run_parser.add_argument("args", nargs="*", metavar="key=value", help="settings for configure, arguments for a command")
    arguments = parser.parse_args(argv)
    if arguments.mode == "run" and arguments.command is None:
        run_parser.print_help()
        return 2
    started = time.monotonic()
    code = demo(arguments) if arguments.mode == "demo" else run(arguments)
    if arguments.mode == "demo":
        print(f"Demo finished in {time.monotonic() - started:.1f} s")
    return code
