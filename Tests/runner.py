"""The local runner: the collector's main job on a fresh clone, against the fake LivePerson or the real one.

    python3 -m Tests demo                              seeded fake, scheduled runs until drained, lost 0 / duplicated 0
    python3 -m Tests run [--state DIR] COMMAND [k=v]   one command against an instance (default state: .state/local)

An instance is a state folder (see Tests/platform_run.py). `run` uses its params.json; `configure` writes it from
the manifest's defaults and your settings, after checking them the way the integration does (a value it would
refuse is not saved). A real account needs only account_id and one way in: an API key's app_key, secret,
access_token and access_token_secret (OAuth 1.0), or client_id and client_secret (OAuth 2.0); they may also come from
environment variables LIVEPERSON_ACCOUNT_ID, LIVEPERSON_APP_KEY, LIVEPERSON_SECRET, LIVEPERSON_ACCESS_TOKEN,
LIVEPERSON_ACCESS_TOKEN_SECRET, LIVEPERSON_CLIENT_ID, LIVEPERSON_CLIENT_SECRET (likewise LIVEPERSON_AUTH_SERVER_URL,
_DOMAIN_API_URL, _FIRST_FETCH, _MAX_FETCH). `ca_bundle=PATH` is the runner's own: the instance then trusts that CA
(the fake's, say).
Examples:

    python3 -m Tests run configure account_id=12345678 client_id=... client_secret=...
    python3 -m Tests run test-module
    python3 -m Tests run fetch-events
    python3 -m Tests run liveperson-get-events limit=5
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from Tests import platform_run

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "Packs" / "LivePerson" / "Integrations" / "LivePersonAuditTrail" / "LivePersonAuditTrail.yml"
SETTLE_SECONDS = 120  # the manifest's default settle delay: records younger than this wait for a later run
# The halves of the credentials parameters by the names `configure` takes (their displays in snake case, as the tenant
# tool names them): an API key's four values, or client credentials.
CREDENTIAL_HALVES = {
    "app_key": ("api_key_credentials", "identifier"),
    "secret": ("api_key_credentials", "password"),
    "access_token": ("access_token_credentials", "identifier"),
    "access_token_secret": ("access_token_credentials", "password"),
    "client_id": ("credentials", "identifier"),
    "client_secret": ("credentials", "password"),
}
CREDENTIAL_PARAMETERS = ("api_key_credentials", "access_token_credentials", "credentials")
SETTINGS_FROM_ENV = ("auth_server_url", "account_id", *CREDENTIAL_HALVES, "domain_api_url", "first_fetch", "max_fetch")
DEFAULT_STATE = str(ROOT / ".state" / "local")
RUN_COMMANDS = ("configure", "test-module", "fetch-events", "liveperson-get-events")
# Names `configure` takes besides the manifest's parameters: the halves of the credentials, and the runner's CA.
RUNNER_SETTINGS = (*CREDENTIAL_HALVES, "ca_bundle")


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


def check_settings(params: dict[str, Any]) -> None:
    """Reads the settings as the integration does; raises ConfigurationError with its message if it would refuse them."""
    import LivePersonAuditTrail  # noqa: PLC0415 - on the path once platform_run is imported

    try:
        LivePersonAuditTrail.Settings.from_params(params)
    except LivePersonAuditTrail.SettingError as error:
        raise ConfigurationError(str(error)) from error


def configure(state: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """Writes params.json: the manifest's defaults, what was saved before, then the given settings, once they pass the
    integration's own checks (the halves of CREDENTIAL_HALVES form the credentials; ca_bundle is copied to the state as
    ca.pem)."""
    settings = dict(settings)
    names = [parameter["name"] for parameter in manifest_parameters()]
    unknown = sorted(set(settings) - set(names) - set(RUNNER_SETTINGS))
    if unknown:
        known = ", ".join(name for name in [*names, *RUNNER_SETTINGS] if name not in CREDENTIAL_PARAMETERS)
        raise ConfigurationError(f"Unknown setting {', '.join(unknown)}: the settings are {known}.")
    ca_bundle = settings.pop("ca_bundle", None)
    if ca_bundle is not None and not Path(ca_bundle).is_file():
        raise ConfigurationError(f'"ca_bundle" must be a CA certificate file; there is no file at {ca_bundle}.')
    params = manifest_defaults()
    params.update(json.loads((state / "params.json").read_text()) if (state / "params.json").exists() else {})
    for key in SETTINGS_FROM_ENV:
        if os.environ.get(f"LIVEPERSON_{key.upper()}"):
            settings.setdefault(key, os.environ[f"LIVEPERSON_{key.upper()}"])
    for key, (name, half) in CREDENTIAL_HALVES.items():
        if key in settings:
            params[name] = {**(params.get(name) or {}), half: settings.pop(key)}
    params.update(settings)
    check_settings(params)
    state.mkdir(parents=True, exist_ok=True)
    (state / "params.json").write_text(json.dumps(params, indent=1, sort_keys=True))
    if ca_bundle is not None:
        shutil.copyfile(ca_bundle, state / platform_run.CA_BUNDLE)
    return params


def configure_for_fake(state: Path, fake: Any, **settings: Any) -> dict[str, Any]:
    """An instance of the manifest's defaults that talks to the fake LivePerson, plus the given settings.

    As a new user's: account ID, client ID and secret; the Sentinel host is found through the (fake's) Domain API.
    """
    endpoints = {"domain_api_url": fake.url, "account_id": fake.account_id, "ca_bundle": fake.ca_bundle}
    credentials = {"client_id": fake.client_id, "client_secret": fake.client_secret}
    return configure(state, {**endpoints, **credentials, **settings})


def fresh_state(state: Path) -> None:
    if state.exists():
        shutil.rmtree(state)
    state.mkdir(parents=True)


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
    with FakeLivePerson(seed=arguments.seed, client_secret=arguments.client_secret) as fake:
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


def run(arguments: argparse.Namespace) -> int:
    state = Path(arguments.state)
    if arguments.command == "configure":
        try:
            params = configure(state, platform_run.parse_args(arguments.args))
        except ConfigurationError as error:
            print(f"configure: {error} Nothing was saved.")
            return 1
        shown = {key: ("<set>" if key in CREDENTIAL_PARAMETERS else value) for key, value in params.items()}
        print(json.dumps(shown, indent=1, sort_keys=True))
        return 0
    if not (state / "params.json").exists():
        try:
            configure(state, {})
        except ConfigurationError as error:
            print(
                f"No instance in {state} yet ({error}). Configure one first:\n"
                f"  python3 -m Tests run{'' if arguments.state == DEFAULT_STATE else f' --state {state}'} configure "
                "account_id=... client_id=... client_secret=..."
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
    demo_parser.add_argument("--client-secret", default=None, help="the fake's client secret (default: a random one)")
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
