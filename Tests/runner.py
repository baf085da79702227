"""The local runner: the collector's main job on a fresh clone, against the fake LivePerson or the real one.

    python3 -m Tests demo                              seeded fake, scheduled runs until drained, lost 0 / duplicated 0
    python3 -m Tests run [--state DIR] COMMAND [k=v]   one command against an instance (default state: .state/local)

An instance is a state folder (see Tests/platform_run.py). `run` uses its params.json; create one from the
manifest's defaults and your settings with `python3 -m Tests run --state DIR configure key=value ...` (for a real
account: auth_server_url, account_id, client_id, client_secret), or from environment variables LIVEPERSON_*
of the same names (LIVEPERSON_CLIENT_SECRET ...). Examples:

    python3 -m Tests run configure account_id=12345678 client_id=... client_secret=... auth_server_url=va.sentinel.liveperson.net
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
SETTINGS_FROM_ENV = ("auth_server_url", "account_id", "client_id", "client_secret", "domain_api_url", "first_fetch", "max_fetch")


# ------------------------------------------------------------------ instances


def manifest_defaults() -> dict[str, Any]:
    """The instance a user gets by leaving every setting at the manifest's default."""
    manifest = yaml.safe_load(MANIFEST.read_text())
    params: dict[str, Any] = {}
    for parameter in manifest["configuration"]:
        if "defaultvalue" in parameter:
            value = parameter["defaultvalue"]
            params[parameter["name"]] = value == "true" if parameter["type"] == 8 else value
    return params


def configure(state: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """Writes params.json: the manifest's defaults, then the given settings (client_id/secret form the credentials)."""
    params = manifest_defaults()
    params.update(json.loads((state / "params.json").read_text()) if (state / "params.json").exists() else {})
    for key in SETTINGS_FROM_ENV:
        if os.environ.get(f"LIVEPERSON_{key.upper()}"):
            settings.setdefault(key, os.environ[f"LIVEPERSON_{key.upper()}"])
    credentials = dict(params.get("credentials") or {})
    if "client_id" in settings:
        credentials["identifier"] = settings.pop("client_id")
    if "client_secret" in settings:
        credentials["password"] = settings.pop("client_secret")
    if credentials:
        params["credentials"] = credentials
    params.update(settings)
    state.mkdir(parents=True, exist_ok=True)
    (state / "params.json").write_text(json.dumps(params, indent=1, sort_keys=True))
    return params


def configure_for_fake(state: Path, fake: Any, **settings: Any) -> dict[str, Any]:
    """An instance of the manifest's defaults that talks to the fake LivePerson, plus the given settings."""
    endpoints = {"auth_server_url": fake.host, "domain_api_url": fake.url, "account_id": fake.account_id}
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


# ------------------------------------------------------------------ the demo


def progress_bar(done: int, total: int, width: int = 30) -> str:
    filled = width if total == 0 else min(width, round(width * done / total))
    return "[" + "#" * filled + "." * (width - filled) + f"] {done}/{total}"


def cursor_summary(state: Path) -> str:
    cursor = json.loads((state / "last_run.json").read_text()) if (state / "last_run.json").exists() else {}
    if not cursor:
        return "cursor: none"
    return f"delivered up to {cursor.get('last') or 'nothing yet'}"


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
        print(f"  {len(fake.records)} records at {fake.url} (CA: {fake.ca_bundle})")
        os.environ["REQUESTS_CA_BUNDLE"] = fake.ca_bundle
        configure_for_fake(state, fake, first_fetch=f"{arguments.days + 1} days", isFetchEvents=True)
        print(f"Instance: manifest defaults + the fake's endpoints, state in {state}/\n")

        outcome = platform_run.run_command(state, "test-module")
        print(f"test-module: {platform_run.readable(outcome.results[-1]) if outcome.results else outcome.error}\n")
        if not outcome.ok or outcome.results[-1] != "ok":
            return 1

        params = json.loads((state / "params.json").read_text())
        since = datetime.now(UTC) - timedelta(days=arguments.days + 1)
        cycle, quiet_cycles = 0, 0
        while quiet_cycles < 2 and cycle < arguments.max_cycles:
            cycle += 1
            if cycle <= arguments.append_cycles:
                fake.add_records(data.live_traffic(datetime.now(UTC), rng))
            calls_before = Counter(entry.endpoint for entry in fake.requests)
            # After the arrivals, the platform's later runs come a few minutes on: past the settle delay.
            clock_at = None if cycle <= arguments.append_cycles else time.time() + SETTLE_SECONDS + 60
            outcome = platform_run.run_command(state, "fetch-events", clock_at=clock_at)
            calls = Counter(entry.endpoint for entry in fake.requests) - calls_before
            expected_total = len(fake.expected(since=since, lpa=params.get("lpa", True), automatic_updates=False))
            delivered = len(delivered_events(state))
            print(
                f"cycle {cycle:2d} {progress_bar(delivered, expected_total)}  sent {outcome.events_sent:5d}"
                f"  API calls {sum(calls.values()):3d} (domain {calls['domain']}, token {calls['token']}, audit {calls['audit']})"
                f"  {outcome.seconds:5.2f} s  {cursor_summary(state)}" + (f"  ERROR {outcome.error}" if outcome.error else ""),
                flush=True,
            )
            quiet_cycles = quiet_cycles + 1 if outcome.events_sent == 0 and cycle > arguments.append_cycles else 0

        print("\n!liveperson-get-events limit=5")
        outcome = platform_run.run_command(state, "liveperson-get-events", {"limit": "5"})
        for entry in outcome.results:
            print(platform_run.readable(entry))

        expected = fake.expected(since=since, lpa=params.get("lpa", True), automatic_updates=False)
        lost, duplicated = compare(expected, delivered_events(state))
        count = len(delivered_events(state))
        print(f"Verification: {len(expected)} records in the fake, {count} delivered: lost {lost}, duplicated {duplicated}")
        return 0 if lost == 0 and duplicated == 0 else 1


# ------------------------------------------------------------------ command line


def run(arguments: argparse.Namespace) -> int:
    state = Path(arguments.state)
    if arguments.command == "configure":
        params = configure(state, platform_run.parse_args(arguments.args))
        shown = {key: ("<set>" if key == "credentials" else value) for key, value in params.items()}
        print(json.dumps(shown, indent=1, sort_keys=True))
        return 0
    if not (state / "params.json").exists():
        configure(state, {})
    outcome = platform_run.run_command(state, arguments.command, platform_run.parse_args(arguments.args))
    for entry in outcome.results:
        print(platform_run.readable(entry))
    status = "ok" if outcome.ok else "error"
    print(f"[{arguments.command}: {status}, {outcome.events_sent} events sent, {outcome.seconds:.2f} s; {cursor_summary(state)}]")
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
    run_parser = commands.add_parser("run", help="one command against an instance")
    run_parser.add_argument("--state", default=str(ROOT / ".state" / "local"))
    run_parser.add_argument("command", help="configure, test-module, fetch-events or liveperson-get-events")
    run_parser.add_argument("args", nargs="*", help="key=value arguments")
    arguments = parser.parse_args(argv)
    started = time.monotonic()
    code = demo(arguments) if arguments.mode == "demo" else run(arguments)
    if arguments.mode == "demo":
        print(f"Demo finished in {time.monotonic() - started:.1f} s")
    return code
