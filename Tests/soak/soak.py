"""The soaks: many scheduled fetch-events runs against the fake LivePerson, on a simulated clock.

The fault soak runs each fetch in a fresh process. Between and during runs records arrive (bursts larger than a
page, quiet hours, midnights, the odd late record); before runs faults are scheduled at random (every kind the fake
has, plus XSIAM refusing a send); with --kills a run may be SIGKILLed at a random moment.

The condition soak plays, one at a time, each behaviour the documentation leaves open (`CONDITIONS`: page caps,
shuffled ties, commit delays, a US/Eastern fromDate, a bulk change larger than a page with orderBy columns honoured,
refused or ignored, ...), every one with changes landing while runs read (the fake's live edge), and prints one line
per condition: runs, records, the page size learned (read from the instance's integration context after the runs)
beside the fake's cap, lost, duplicated, audit calls per quiet run, the largest last run.

State crosses runs only through the last run and the integration context, as on the platform. The integration's
clock is the simulated one (PLATFORM_CLOCK), so the settle delay passes as it would. At the end each soak drains
without faults, a simulated hour later, and compares with the ground truth.

    python3 -m Tests soak --runs 2000 --kills              (python3 -m Tests.soak works the same)
    python3 -m Tests soak --conditions --condition-runs 300
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from Tests import platform_run, runner
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
    """The account's changes on a simulated clock; `run_at` is when the platform runs the next fetch."""

    def __init__(self, rng: random.Random, start: datetime):
        self.rng, self.now = rng, start
        self.run_at = start.timestamp()

    def clock(self) -> float:
        """The fake's clock: the simulated time of the run under way."""
        return self.run_at

    def schedule_run(self, lateness: float | None = None) -> float:
        """The next run starts a little after the newest changes (a scheduled run, every minute or after a pause)."""
        self.run_at = max(self.run_at, self.now.timestamp() + (self.rng.uniform(0, 90) if lateness is None else lateness))
        return self.run_at

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
    started = time.monotonic()
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
    summary["process_seconds"] = time.monotonic() - started
    return summary, False


def kill_moment(rng: random.Random, durations: list[float]) -> float:
    """A moment inside a run, process start included: a share of how long the latest whole runs took, so that the
    kills land inside runs however fast the machine is (before any run is measured, a guess)."""
    typical = statistics.median(durations[-20:]) if durations else 0.4
    return rng.uniform(0.3, 0.95) * typical


def soak(runs: int, kills: bool, seed: int, state: Path, fault_rate: float = 0.35, kill_rate: float = 0.35) -> SoakReport:
    rng = random.Random(seed)
    report = SoakReport()
    started = time.monotonic()
    runner.fresh_state(state)
    report.transcript = state / "transcript.txt"
    durations: list[float] = []  # of the runs not killed, process start included
    traffic = Traffic(rng, datetime.now(UTC).replace(microsecond=0) - timedelta(days=4))
    with (
        FakeLivePerson(seed=seed, client_secret=SOAK_SECRET, clock=traffic.clock) as fake,
        report.transcript.open("w") as transcript,
    ):
        since = traffic.now - timedelta(days=1)
        runner.configure_for_fake(state, fake, first_fetch=format_time(since), page_size="100", max_fetch="400")
        base_env = {**os.environ, "REQUESTS_CA_BUNDLE": fake.ca_bundle, "PLATFORM_VIRTUAL_TIME": "1"}
        base_env.pop("XSIAM_REFUSE_CHUNKS", None)
        for _ in range(runs):
            fake.add_records(traffic.next_batch())
            env = {**base_env, "PLATFORM_CLOCK": str(traffic.schedule_run())}
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
            kill_after = kill_moment(rng, durations) if kills and rng.random() < kill_rate else None
            summary, killed = run_once(state, env, kill_after, transcript)
            if summary is not None:
                durations.append(summary["process_seconds"])
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
        traffic.schedule_run(lateness=3600)  # drain an hour later, no faults: everything has settled
        for _ in range(200):
            summary, _ = run_once(state, {**base_env, "PLATFORM_CLOCK": str(traffic.run_at)}, None, transcript)
            assert summary is not None
            if summary["ok"] and summary["sent"] == 0:
                break
        expected = fake.expected(since=since)
        delivered = runner.delivered_events(state)
        report.records, report.delivered = len(expected), len(delivered)
        report.lost, report.duplicated = runner.compare(expected, delivered)
        (state / "issued_tokens.json").write_text(json.dumps(fake.issued_tokens))
    report.seconds = time.monotonic() - started
    return report


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------ the condition soak

SETTLE_SECONDS = 120  # the manifest's default settle delay, which the condition soak keeps


# Changes land while every condition's runs read: now and then between two queries, often right after a query that
# reached the end of its result (where a short page and its probe meet).
LIVE_EDGE = {"live_edge": 0.05, "live_edge_at_end": 0.3}
CONDITION_PAGE_SIZE = 500  # the instance's page size (the manifest's default): a cap is what the fake gives below it
BULK_RECORDS = 1500  # one bulk change: more different records in one second than the largest page (1,000)


@dataclass(frozen=True)
class Condition:
    """One behaviour the documentation leaves open, as constructor settings of the fake; `bulk` adds one bulk change
    of that many records in one second half-way through the runs."""

    name: str
    fake: dict[str, Any]
    bulk: int = 0

    @property
    def cap(self) -> int | None:
        """The page size the collector must learn: the fake's largest page where the collector asks for more, that is
        where it is below the instance's page size, or where a bulk change has more records in one second."""
        largest = self.fake.get("max_first", 1000)
        return largest if largest < max(CONDITION_PAGE_SIZE, self.bulk) else None


CONDITIONS = [
    Condition("documented behaviour only", {}),
    Condition("silent cap: 100 a page", {"max_first": 100}),
    Condition("error above first=200", {"max_first": 200, "over_max_first": "error"}),
    Condition("ties shuffled on every query", {"tie_order": "shuffled"}),
    Condition("commit delay up to 5 s", {"commit_delay": 5}),
    Condition("commit delay up to 60 s", {"commit_delay": 60}),
    Condition("commit delay up to 10 min (5%)", {"commit_delay": 600, "commit_delay_share": 0.05}),
    Condition("fromDate read as US/Eastern", {"from_date_zone": "US/Eastern"}),
    Condition("X-Total-Count of the page", {"total_count": "page"}),
    Condition("changeDate in milliseconds", {"precision": "millisecond"}),
    # How the arguments are typed (the documentation gives no GraphQL types): learned by asking, or by introspection.
    Condition(
        "orderBy, orderDirection lists of enums", {"order_by": "enums", "order_direction": "enums", "introspection": False}
    ),
    Condition(
        "orderBy, orderDirection plain strings", {"order_by": "string", "order_direction": "string", "introspection": False}
    ),
    Condition(
        "plain enums, a Date scalar, no actionType",
        {"order_by": "enum", "order_direction": "enum", "from_date": "Date", "action_type": False, "introspection": False},
    ),
    Condition("mixed typings, by introspection", {"order_by": "string", "order_direction": "enums", "from_date": "Date"}),
    Condition(
        "all of these at once",
        {
            "max_first": 100,
            "tie_order": "shuffled",
            "commit_delay": 60,
            "from_date_zone": "US/Eastern",
            "total_count": "page",
            "precision": "millisecond",
        },
    ),
    Condition("bulk change, orderBy columns honoured", {"tie_order": "shuffled", "tie_columns": "honoured"}, BULK_RECORDS),
    Condition("bulk change, orderBy columns refused", {"tie_order": "shuffled", "tie_columns": "refused"}, BULK_RECORDS),
    Condition("bulk change, orderBy columns ignored", {"tie_order": "shuffled", "tie_columns": "ignored"}, BULK_RECORDS),
]
NAMED_INEXACT = "could not be read exactly"  # the log's words for a second the collector could not read exactly


@dataclass
class ConditionReport:
    name: str
    cap: int | None = None  # the fake's
    bulk: int = 0
    runs: int = 0
    failed_runs: int = 0
    records: int = 0
    lost: int = 0
    duplicated: int = 0
    late_beyond_settle: int = 0
    steady_calls: list[int] = field(default_factory=list)
    largest_last_run: int = 0
    learned_page_size: int | None = None
    named_inexact: list[str] = field(default_factory=list)  # log lines naming a second not read exactly
    landed: int = 0  # records that landed while runs read

    @property
    def calls_per_steady_run(self) -> float:
        return sum(self.steady_calls) / len(self.steady_calls) if self.steady_calls else 0.0

    @property
    def exact(self) -> bool:
        """Nothing lost and duplicates only of records that became visible later than the settle delay, but in the
        bulk change's second where the log names it as not read exactly; the page size learned is the fake's cap, or
        none where it has none."""
        named = self.bulk if self.named_inexact else 0
        return self.lost <= named and self.duplicated <= self.late_beyond_settle + named and self.learned_page_size == self.cap

    def line(self) -> str:
        learned = "none" if self.learned_page_size is None else str(self.learned_page_size)
        cap = "none" if self.cap is None else str(self.cap)
        named = f", {len(self.named_inexact)} second(s) named not exact" if self.named_inexact else ""
        return (
            f"{self.name:42s} runs {self.runs:4d} (failed {self.failed_runs}), records {self.records:6d} "
            f"(landed while reading {self.landed}), page size learned {learned:>4s} (fake's cap {cap:>4s}), lost {self.lost}, "
            f"duplicated {self.duplicated} (late beyond settle {self.late_beyond_settle}{named}), "
            f"audit calls per quiet run {self.calls_per_steady_run:.2f}, last run {self.largest_last_run} B"
        )


def learned_page_size(state: Path) -> int | None:
    """The page size the instance learned: the cap `PageSizeLearner` keeps in the integration context (None if none)."""
    from LivePersonAuditTrail import PageSizeLearner  # noqa: PLC0415 - importable once platform_run set the path up

    entry = runner.integration_context(state).get(PageSizeLearner.CACHE_KEY)
    value = entry.get("value") if isinstance(entry, dict) else None
    return value.get("cap") if isinstance(value, dict) else None


def soak_condition(condition: Condition, runs: int, seed: int, state: Path, steady_runs: int = 20) -> ConditionReport:
    """`runs` scheduled runs (in this process) with traffic between them, a drain, then a steady minute-by-minute
    stretch whose audit calls are counted."""
    rng = random.Random(seed)
    report = ConditionReport(condition.name, cap=condition.cap, bulk=condition.bulk)
    runner.fresh_state(state)
    traffic = Traffic(rng, datetime.now(UTC).replace(microsecond=0) - timedelta(days=3))
    since = traffic.now - timedelta(hours=6)
    with FakeLivePerson(seed=seed, clock=traffic.clock, **{**LIVE_EDGE, **condition.fake}) as fake:
        runner.configure_for_fake(
            state, fake, first_fetch=format_time(since), max_fetch="2000", page_size=str(CONDITION_PAGE_SIZE)
        )
        previous_bundle = os.environ.get("REQUESTS_CA_BUNDLE")
        os.environ["REQUESTS_CA_BUNDLE"] = fake.ca_bundle
        try:

            def run() -> platform_run.Outcome:
                outcome = platform_run.run_command(state, "fetch-events", clock_at=traffic.run_at)
                report.named_inexact += [line for line in outcome.logs if NAMED_INEXACT in line]
                report.runs += 1
                report.failed_runs += not outcome.ok
                last_run = state / "last_run.json"
                if last_run.exists():
                    size = len(json.dumps(json.loads(last_run.read_text()), separators=(",", ":")))
                    report.largest_last_run = max(report.largest_last_run, size)
                return outcome

            for index in range(runs):
                fake.add_records(traffic.next_batch())
                if condition.bulk and index == runs // 2:
                    fake.add_records(data.bulk_change(traffic.now, condition.bulk, rng))
                traffic.schedule_run()
                run()
            traffic.schedule_run(lateness=3600)
            for _ in range(50):
                if run().events_sent == 0:
                    break
            traffic.now = datetime.fromtimestamp(traffic.run_at, UTC)
            for _ in range(steady_runs):  # a quiet account, one run a minute
                traffic.now += timedelta(seconds=60)
                fake.add_records([data.make_record(traffic.now - timedelta(seconds=rng.uniform(0, 50)), rng)])
                traffic.run_at = traffic.now.timestamp()
                mark = fake.count("audit")
                run()
                report.steady_calls.append(fake.count("audit") - mark)
            fake.live_edge = fake.live_edge_at_end = 0.0  # the account falls quiet: what landed settles and is drained
            traffic.schedule_run(lateness=3600)
            for _ in range(5):
                if run().events_sent == 0:
                    break
        finally:
            if previous_bundle is None:
                os.environ.pop("REQUESTS_CA_BUNDLE", None)
            else:
                os.environ["REQUESTS_CA_BUNDLE"] = previous_bundle
        expected = fake.expected(since=since)
        report.records = len(expected)
        report.lost, report.duplicated = runner.compare(expected, runner.delivered_events(state))
        report.late_beyond_settle = fake.late_beyond(SETTLE_SECONDS)
        report.landed = sum(landing.count for landing in fake.landed)
    report.learned_page_size = learned_page_size(state)
    return report


def soak_conditions(runs: int, seed: int, state: Path, names: list[str] | None = None) -> list[ConditionReport]:
    chosen = [condition for condition in CONDITIONS if not names or condition.name in names]
    return [soak_condition(condition, runs, seed + index, state / f"condition-{index}") for index, condition in enumerate(chosen)]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m Tests soak", description=__doc__)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--kills", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--state", default=str(ROOT / ".state" / "soak"))
    parser.add_argument("--conditions", action="store_true", help="the condition soak instead of the fault soak")
    parser.add_argument("--condition-runs", type=int, default=120)
    arguments = parser.parse_args(argv)
    if arguments.conditions:
        reports = soak_conditions(arguments.condition_runs, arguments.seed, Path(arguments.state))
        print("\n".join(report.line() for report in reports))
        return 0 if all(report.exact for report in reports) else 1
    report = soak(arguments.runs, arguments.kills, arguments.seed, Path(arguments.state))
    print("\n".join(report.lines()))
    return 0 if report.lost == 0 and (arguments.kills or report.duplicated == 0) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
