"""The fault soak: many scheduled fetch-events runs, each in a fresh process, against the fake LivePerson.

Between and during runs records arrive (bursts larger than a page, quiet hours, midnights, the odd late record);
before runs faults are scheduled at random (every kind the fake has, plus XSIAM refusing a send); with --kills a
run may be SIGKILLed at a random moment. State crosses runs only through the last run and the integration
context, as on the platform. At the end the soak drains without faults and compares with the ground truth.

    python3 -m Tests.soak --runs 2000 --kills      (inside .venv; `python3 -m Tests run` sets nothing up for it)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from Tests import runner
from Tests.fake_liveperson import FakeLivePerson, data

ROOT = Path(__file__).resolve().parents[2]
SOAK_SECRET = "SOAK-SECRET-7f3a9c1e-do-not-leak"
RUN_BUDGET_SECONDS = 150 + 30  # the module's time budget plus one request timeout it may be inside of
FAULT_KINDS: list[tuple[str, str, dict[str, Any]]] = [
    ("audit", "status", {"code": 500}),
    ("audit", "status", {"code": 502, "times": 2}),
    ("audit", "status", {"code": 503, "times": 4}),
    ("audit", "status", {"code": 429}),
    ("audit", "status", {"code": 429, "retry_after": 2}),
    ("audit", "status", {"code": 401}),
    ("audit", "expired_token", {}),
    ("audit", "status", {"code": 403}),
    ("audit", "reset", {}),
    ("audit", "slow", {"seconds": 0.3}),
    ("audit", "malformed_json", {}),
    ("audit", "graphql_errors", {}),
    ("audit", "no_data", {}),
    ("token", "status", {"code": 500}),
    ("domain", "status", {"code": 503}),
    ("xsiam", "refuse", {}),
]


@dataclass
class SoakReport:
    runs: int = 0
    records: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    kills: int = 0
    failed_runs: int = 0
    faults: Counter = field(default_factory=Counter)
    longest_run: float = 0.0
    longest_virtual: float = 0.0
    seconds: float = 0.0
    transcript: Path | None = None

    def lines(self) -> list[str]:
        faults = ", ".join(f"{kind} {count}" for kind, count in sorted(self.faults.items())) or "none"
        return [
            f"runs {self.runs} (failed {self.failed_runs}, killed {self.kills}), "
            f"records {self.records}, delivered {self.delivered}",
            f"faults: {faults}",
            f"lost {self.lost}, duplicated {self.duplicated}",
            f"longest run {self.longest_run:.2f} s real + {self.longest_virtual:.0f} s of retry pauses (virtual); "
            f"soak {self.seconds:.0f} s",
        ]


class Traffic:
    """The account's changes on a simulated clock that runs ahead of the collector."""

    def __init__(self, rng: random.Random, start: datetime):
        self.rng, self.now = rng, start

    def next_batch(self) -> list[dict[str, Any]]:
        rng = self.rng
        self.now += timedelta(seconds=rng.choice([0, 1, 1, 5, 30, 120, 600, 3600, 5 * 3600]))
        records = [data.make_record(self.now, rng, lpa=rng.random() < 0.1) for _ in range(rng.randint(0, 25))]
        if rng.random() < 0.15:
            records += data.burst(self.now, rng.randint(40, 260), rng, identical=rng.random() < 0.6)
        if rng.random() < 0.05:
            records.append(data.make_record(self.now - timedelta(seconds=rng.randint(1, 30)), rng))  # committed late
        return records

    def same_second(self) -> list[dict[str, Any]]:
        return [data.make_record(self.now, self.rng) for _ in range(self.rng.randint(1, 15))]


def run_once(state: Path, env: dict[str, str], kill_after: float | None, transcript: Any) -> tuple[dict | None, bool]:
    """One scheduled run in a fresh process; returns its summary (None if killed) and whether it was killed."""
    command = [sys.executable, "-m", "Tests.platform_run", str(state), "fetch-events"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = False
    if kill_after is not None:
        try:
            process.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            process.kill()
            killed = True
    out, err = process.communicate(timeout=600)
    transcript.write(out + err)
    if killed:
        return None, True
    summary = json.loads(out.strip().splitlines()[-1]) if out.strip() else None
    if summary is None:
        raise RuntimeError(f"a run ended without a summary: {err[-2000:]}")
    return summary, False


def soak(runs: int, kills: bool, seed: int, state: Path, fault_rate: float = 0.35, kill_rate: float = 0.35) -> SoakReport:
    rng = random.Random(seed)
    report = SoakReport()
    started = time.monotonic()
    runner.fresh_state(state)
    report.transcript = state / "transcript.txt"
    with FakeLivePerson(seed=seed, client_secret=SOAK_SECRET) as fake, report.transcript.open("w") as transcript:
        runner.configure_for_fake(state, fake, first_fetch="7 days", page_size="100", max_fetch="400")
        base_env = {**os.environ, "REQUESTS_CA_BUNDLE": fake.ca_bundle, "PLATFORM_VIRTUAL_TIME": "1"}
        base_env.pop("XSIAM_REFUSE_CHUNKS", None)
        traffic = Traffic(rng, datetime.now(UTC) - timedelta(days=4))
        for _ in range(runs):
            fake.add_records(traffic.next_batch())
            env = dict(base_env)
            if rng.random() < fault_rate:
                endpoint, kind, options = rng.choice(FAULT_KINDS)
                report.faults[f"{endpoint}:{kind}:{options.get('code', '')}".rstrip(":")] += 1
                if endpoint == "xsiam":
                    env["XSIAM_REFUSE_CHUNKS"] = str(rng.randint(1, 3))
                else:
                    options = dict(options)
                    fake.faults.add(endpoint, kind, times=options.pop("times", 1), **options)
            during = threading.Timer(rng.uniform(0.2, 0.8), lambda: fake.add_records(traffic.same_second()))
            during.start()
            kill_after = rng.uniform(0.1, 0.6) if kills and rng.random() < kill_rate else None
            summary, killed = run_once(state, env, kill_after, transcript)
            during.join()
            fake.faults.clear()
            report.runs += 1
            report.kills += killed
            if summary is not None:
                report.failed_runs += not summary["ok"]
                report.longest_run = max(report.longest_run, summary["seconds"])
                report.longest_virtual = max(report.longest_virtual, summary["virtual_seconds"])
                if summary["seconds"] + summary["virtual_seconds"] > RUN_BUDGET_SECONDS:
                    raise AssertionError(f"a run took {summary['seconds']} s + {summary['virtual_seconds']} s virtual")
        for _ in range(200):  # drain, no faults
            summary, _ = run_once(state, base_env, None, transcript)
            assert summary is not None
            if summary["ok"] and summary["sent"] == 0:
                break
        expected = fake.expected()
        delivered = runner.delivered_events(state)
        report.records, report.delivered = len(expected), len(delivered)
        report.lost, report.duplicated = runner.compare(expected, delivered)
        (state / "issued_tokens.json").write_text(json.dumps(fake.issued_tokens))
    report.seconds = time.monotonic() - started
    return report


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m Tests.soak", description=__doc__)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--kills", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--state", default=str(ROOT / ".state" / "soak"))
    arguments = parser.parse_args(argv)
    report = soak(arguments.runs, arguments.kills, arguments.seed, Path(arguments.state))
    print("\n".join(report.lines()))
    return 0 if report.lost == 0 and (arguments.kills or report.duplicated == 0) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
