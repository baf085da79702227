"""python3 -m Tests bench: what draining a backlog costs the collector, next to the bare work, measured side by side.

    python3 -m Tests bench [--records 100000] [--page-size 500] [--max-fetch 50000] [--rounds 5] [--day-runs 1440]
                           [--json artifacts/bench/bench.json] [--profile 25]

The collector is a black box: its fetch-events runs as the platform runs it, each run a fresh process of
`Tests/platform_run.py`, against the benchmark's own LivePerson (`Tests/bench/server.py`, pages served from
precomputed bytes) over HTTPS on loopback. Figures, printed as one table and written to a JSON file:

- drain time: a drain of N records (runs until one sends nothing) against two floors that replay, process for
  process, the calls each run made: (a) fetch and decode; (b) fetch, decode and hand each page as it is to the
  platform library's send (the double, with the real library's serialisation and chunking). Rounds alternate the
  three, each drain from a fresh instance; the table gives ratios of the medians, and the fake's CPU share.
- API calls per record drained, and per steady-state run over a simulated day of one-minute runs (in process, on
  the collector's virtual clock, so cached tokens and hosts expire as in a real day; a few records a minute).
- CPU per record, in process and without HTTP: the collector's own (an in-process drain minus floor (b) on the
  same answers), and its pieces measured alone: record JSON, entries, changeDate parsing, cursor, batching.
- peak memory (RSS) of the drain's largest run, above the run that finds nothing, next to its records' JSON.
- the last run's size after the drain, and whether every record was delivered exactly as served.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import importlib
import json
import math
import os
import pstats
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from Tests import platform_run, runner
from Tests.bench.server import BenchLivePerson, LoggedRequest
from Tests.fake_liveperson import data

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_JSON = ROOT / "artifacts" / "bench" / "bench.json"
MODULE = "LivePersonAuditTrail"
VENDOR, PRODUCT = "liveperson", "liveengage"  # the dataset the collector sends to (the floors send there too)
RECORDS_PER_DAY = 5000
SIDES = ("pipeline", "floor_a", "floor_b")


class BenchError(Exception):
    """The benchmark could not measure what it set out to (a run failed, a drain did not end)."""


@dataclass
class Options:
    records: int = 100_000
    page_size: int = 500
    max_fetch: int = 50_000
    rounds: int = 5
    day_runs: int = 1440
    seed: int = 10
    json_path: Path = DEFAULT_JSON
    profile: int = 0


# ------------------------------------------------------------------ processes


@dataclass
class ProcessRun:
    """One fresh process: its wall time (start included), its CPU time (user and system), output and exit code."""

    wall: float
    cpu: float
    stdout: str
    stderr: str
    returncode: int

    def summary(self) -> dict[str, Any]:
        """The JSON line a `Tests.platform_run` or a floor process ends with."""
        lines = self.stdout.strip().splitlines()
        if self.returncode not in (0, 1) or not lines:
            raise BenchError(f"a process failed ({self.returncode}): {self.stderr[-2000:]}")
        return json.loads(lines[-1])


def run_process(command: list[str], env: dict[str, str], scratch: Path) -> ProcessRun:
    """Runs a command to its end, its output going to files (a pipe left unread could stall it)."""
    out_path, err_path = scratch / "process.out", scratch / "process.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        cpu_before, started = _children_cpu(), time.perf_counter()
        returncode = subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=err, check=False).returncode
        wall, cpu = time.perf_counter() - started, _children_cpu() - cpu_before
    return ProcessRun(wall, cpu, out_path.read_text(), err_path.read_text(), returncode)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # of the children waited for so far: one more each run
    return usage.ru_utime + usage.ru_stime


# ------------------------------------------------------------------ data and instances


def backlog(count: int, end: datetime, seed: int) -> list[dict[str, Any]]:
    """`count` audit records before `end`, oldest first: about 5,000 a day, and now and then a bulk edit (20 to 120
    records in one second, identical or not), as the fake LivePerson's generator makes them."""
    rng = data.make_rng(seed)
    start = end - timedelta(days=backlog_days(count))
    span = int((end - start).total_seconds())
    records: list[dict[str, Any]] = []
    while len(records) < count:
        when = start + timedelta(seconds=rng.randrange(span))
        if rng.random() < 0.002:
            records.extend(data.burst(when, rng.randint(20, 120), rng, identical=rng.random() < 0.5))
        else:
            records.append(data.make_record(when, rng))
    records = records[:count]
    records.sort(key=lambda record: record["timestamp"])  # stable: a burst keeps its order within its second
    return records


def backlog_days(count: int) -> int:
    return max(1, math.ceil(count / RECORDS_PER_DAY))


def expected_line(record: dict[str, Any]) -> str:
    """The NDJSON line of the event the collector must deliver for a served record: the record and its _time."""
    change = record["changeDate"]
    return json.dumps({**record, "_time": f"{change[:10]}T{change[11:19]}Z"})


def configure(state: Path, server: BenchLivePerson, options: Options, days: int) -> None:
    runner.fresh_state(state)
    runner.configure_for_fake(
        state,
        server,
        first_fetch=f"{days + 2} days",
        max_fetch=str(options.max_fetch),
        page_size=str(options.page_size),
        isFetchEvents=True,
    )


@dataclass
class Delivery:
    events: int
    lost: int
    duplicated: int
    differing: int  # delivered lines that are not, byte for byte, the expected event of a served record

    @property
    def exact(self) -> bool:
        return self.lost == self.duplicated == self.differing == 0


def check_delivery(server: BenchLivePerson, state: Path) -> Delivery:
    sink = state / "events.ndjson"
    lines = sink.read_text().splitlines() if sink.exists() else []
    delivered = [json.loads(line) for line in lines]
    lost, duplicated = runner.compare(server.records, delivered)
    differing = sum((Counter(lines) - Counter(map(expected_line, server.records))).values())
    return Delivery(len(lines), lost, duplicated, differing)


# ------------------------------------------------------------------ the drain and its floors


@dataclass
class Drain:
    """A drain in fresh processes: per run, its process, the calls it made and what it delivered."""

    runs: list[ProcessRun] = field(default_factory=list)
    calls: list[list[LoggedRequest]] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    peak_memory_kb: list[int | None] = field(default_factory=list)
    sink_bytes: list[int] = field(default_factory=list)
    server_cpu: float = 0.0

    @property
    def wall(self) -> float:
        return sum(run.wall for run in self.runs)

    @property
    def cpu(self) -> float:
        return sum(run.cpu for run in self.runs)

    def call_counts(self) -> Counter[str]:
        return Counter(call.endpoint for calls in self.calls for call in calls)


def drain_pipeline(server: BenchLivePerson, state: Path, env: dict[str, str], scratch: Path, max_runs: int) -> Drain:
    """fetch-events, a fresh process per run as on the platform, until a run sends nothing."""
    drain = Drain()
    sink = state / "events.ndjson"
    command = [sys.executable, "-m", "Tests.platform_run", str(state), "fetch-events"]
    for _ in range(max_runs):
        first_call, sink_before, cpu_before = len(server.requests), _size(sink), time.process_time()
        run = run_process(command, env, scratch)
        drain.server_cpu += time.process_time() - cpu_before
        summary = run.summary()
        if not summary["ok"]:
            raise BenchError(f"fetch-events failed: {summary['error']}")
        drain.runs.append(run)
        drain.calls.append(server.requests[first_call:])
        drain.sent.append(int(summary["sent"]))
        drain.peak_memory_kb.append(summary.get("peak_memory_kb"))
        drain.sink_bytes.append(_size(sink) - sink_before)
        if summary["sent"] == 0:
            return drain
    raise BenchError(f"the backlog did not drain in {max_runs} runs")


def write_plans(server: BenchLivePerson, drain: Drain, mode: str, scratch: Path) -> list[Path]:
    """One plan per run of the drain: the calls it made, for a floor process to replay."""
    plans = []
    for number, calls in enumerate(drain.calls):
        plan = {
            "mode": mode,
            "doubles": str(platform_run.DOUBLES),
            "vendor": VENDOR,
            "product": PRODUCT,
            "calls": [
                {
                    "endpoint": call.endpoint,
                    "method": call.method,
                    "url": server.url + call.path,
                    "headers": call.headers,
                    "body": call.body.decode("latin-1"),
                }
                for call in calls
            ],
        }
        path = scratch / f"plan-{mode}-{number}.json"
        path.write_text(json.dumps(plan))
        plans.append(path)
    return plans


def drain_floor(plans: list[Path], env: dict[str, str], scratch: Path) -> tuple[Drain, int]:
    """The floor's processes, one per run of the pipeline's drain; returns them and the records they decoded."""
    drain, records = Drain(), 0
    for plan in plans:
        cpu_before = time.process_time()
        run = run_process([sys.executable, "-m", "Tests.bench.floor", str(plan)], env, scratch)
        drain.server_cpu += time.process_time() - cpu_before
        if run.returncode != 0:
            raise BenchError(f"a floor process failed: {run.stderr[-2000:]}")
        drain.runs.append(run)
        records += int(run.summary()["records"])
    return drain, records


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


# ------------------------------------------------------------------ in process: CPU, profile, steady state


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def fresh_imports() -> Iterator[None]:
    """Each in-process run imports the collector anew, as a fresh process would; the caller's module is put back."""
    saved = sys.modules.get(MODULE)
    try:
        yield
    finally:
        if saved is None:
            sys.modules.pop(MODULE, None)
        else:
            sys.modules[MODULE] = saved


def run_in_process(state: Path, profiles: list[cProfile.Profile] | None = None) -> tuple[platform_run.Outcome, float]:
    """One fetch-events run in this process, the collector imported anew first, as a fresh process imports it.

    Returns the outcome and the CPU time of the import, which is a cost per run rather than per record (the
    benchmark's processes compile the collector every run, as the platform does). With `profiles`, the run (not
    the import) is profiled, one profile per run: pstats keys functions by file, line and name, so the functions
    of two imports are added up only when their profiles are added, not when one profile holds both.
    """
    sys.modules.pop(MODULE, None)
    started = time.process_time()
    importlib.import_module(MODULE)
    import_cpu = time.process_time() - started
    profiler = None
    if profiles is not None:
        profiler = cProfile.Profile()
        profiles.append(profiler)
        profiler.enable()
    try:
        outcome = platform_run.run_command(state, "fetch-events")
    finally:
        if profiler:
            profiler.disable()
    if not outcome.ok:
        raise BenchError(f"fetch-events failed in process: {outcome.error}")
    return outcome, import_cpu


@contextlib.contextmanager
def answered_without_http(server: BenchLivePerson) -> Iterator[None]:
    """Every request of this process answered by the server's own `respond`, with no socket (requests-mock)."""
    import requests_mock  # noqa: PLC0415 - a test dependency, present in .venv

    def answer(request: Any, context: Any) -> bytes:
        url = urllib.parse.urlsplit(request.url)
        body = request.body or b""
        status, payload = server.respond(
            request.method,
            url.path + (f"?{url.query}" if url.query else ""),
            dict(request.headers),
            body if isinstance(body, bytes) else body.encode(),
        )
        context.status_code = status
        return payload

    with requests_mock.Mocker() as mocker:
        mocker.register_uri(requests_mock.ANY, requests_mock.ANY, content=answer)
        yield


def drain_in_process(
    server: BenchLivePerson, state: Path, options: Options, days: int, profiles: list[cProfile.Profile] | None = None
) -> tuple[list[LoggedRequest], float]:
    """A drain in this process from a fresh instance: the calls it made, and the CPU its imports took."""
    configure(state, server, options, days)
    first_call, imports = len(server.requests), 0.0
    for _ in range(max_runs(options)):
        outcome, import_cpu = run_in_process(state, profiles)
        imports += import_cpu
        if outcome.events_sent == 0:
            return server.requests[first_call:], imports
    raise BenchError("the in-process drain did not end")


def floor_b_in_process(server: BenchLivePerson, calls: list[LoggedRequest], sink: Path) -> None:
    """Floor (b) on the same answers, in this process: replay, decode, send with the platform library's double."""
    import CommonServerPython  # noqa: PLC0415 - on the path once platform_run is imported
    import requests  # noqa: PLC0415

    session = requests.Session()
    with environment(XSIAM_SINK_FILE=str(sink)):
        for call in calls:
            answer = session.request(call.method, server.url + call.path, data=call.body or None, headers=call.headers).json()
            # A query the server refused (the collector's schema learning asks some on its first run) holds no page.
            page = (answer.get("data") or {}).get("auditData") if call.endpoint == "audit" else None
            if page:
                CommonServerPython.send_events_to_xsiam(page, vendor=VENDOR, product=PRODUCT, should_update_health_module=False)


def cpu_per_record(server: BenchLivePerson, options: Options, days: int, scratch: Path) -> dict[str, float]:
    """Medians over rounds, in µs per record: an in-process drain (its imports left out: they are a cost per run),
    floor (b) on the calls it made, and the difference: what the collector itself spends per record."""
    timings: dict[str, list[float]] = {"pipeline": [], "floor_b": []}
    with answered_without_http(server), fresh_imports():
        for _ in range(options.rounds):
            state = scratch / "in-process"
            started = time.process_time()
            calls, imports = drain_in_process(server, state, options, days)
            timings["pipeline"].append(time.process_time() - started - imports)
            sink = scratch / "floor-in-process.ndjson"
            sink.unlink(missing_ok=True)
            started = time.process_time()
            floor_b_in_process(server, calls, sink)
            timings["floor_b"].append(time.process_time() - started)
    pipeline, floor = (statistics.median(timings[side]) / len(server.records) * 1e6 for side in ("pipeline", "floor_b"))
    return {"pipeline": pipeline, "floor_b": floor, "module": pipeline - floor}


def profile_drain(server: BenchLivePerson, options: Options, days: int, scratch: Path) -> list[dict[str, Any]]:
    """cProfile of an in-process drain without HTTP: the functions that take the most time of their own."""
    profiles: list[cProfile.Profile] = []
    with answered_without_http(server), fresh_imports():
        drain_in_process(server, scratch / "profiled", options, days, profiles)
    stats = pstats.Stats(profiles[0])
    for profile in profiles[1:]:
        stats.add(profile)
    rows = []
    for (filename, line, function), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        name = function if filename == "~" else f"{Path(filename).name}:{line}({function})"  # "~": a built-in
        rows.append({"function": name, "calls": calls, "own": own, "cumulative": cumulative})
    rows.sort(key=lambda row: row["own"], reverse=True)
    total = sum(row["own"] for row in rows) or 1.0
    return [
        {**row, "own_share": row["own"] / total, "own_us_per_record": row["own"] / len(server.records) * 1e6}
        for row in rows[: options.profile]
    ]


def piece_costs(records: list[dict[str, Any]], options: Options) -> dict[str, float | None]:
    """µs per record of the collector's pieces alone (medians of rounds), on the records as served.

    These call the module's own functions, so a piece whose name or signature changed shows as None (and the
    error is printed); the black-box figure above does not depend on them.
    """
    with fresh_imports():
        sys.modules.pop(MODULE, None)
        module = importlib.import_module(MODULE)
        return _piece_costs(module, records, options)


def _piece_costs(module: ModuleType, records: list[dict[str, Any]], options: Options) -> dict[str, float | None]:
    pages = [records[start : start + options.page_size] for start in range(0, len(records), options.page_size)]
    prepared: dict[str, Any] = {}

    def record_json() -> None:  # the send's own serialisation, made once by the collector (floor (b) pays it too)
        for page in pages:
            [module.record_json(record) for record in page]

    def entries() -> None:  # each record's JSON, fingerprint, time and event line, page by page as the reader does
        prepared["entries"] = [entry for page in pages for entry in module.make_entries(page)]

    def times() -> None:
        [module.read_change_date(record.get("changeDate")) for record in records]

    def cursor() -> None:  # what the reader and the cursor do per record once the entries are made
        seconds = module.whole_seconds(prepared["entries"])
        working = module.Cursor.start(seconds[0].start)
        for start in range(0, len(seconds), options.page_size):
            working.consume(seconds[start : start + options.page_size])

    def batching() -> None:  # the event lines, page by page, into batches of one platform chunk
        batch = module.Batch(module.MAX_BATCH_EVENTS)
        lines = [entry.line for entry in prepared["entries"]]
        for start in range(0, len(lines), options.page_size):
            page = lines[start : start + options.page_size]
            if not batch.add_all(page):
                batch.take()
                batch.add_all(page)

    pieces: list[tuple[str, Callable[[], None]]] = [
        ("record JSON (the send's own cost)", record_json),
        ("entries: JSON, fingerprint, time, event line", entries),
        ("changeDate parsing alone", times),
        ("cursor", cursor),
        ("batching", batching),
    ]
    costs: dict[str, float | None] = {}
    for name, work in pieces:
        try:
            samples = []
            for _ in range(options.rounds):
                samples.append(_without_garbage_collection(work))
            costs[name] = statistics.median(samples) / len(records) * 1e6
        except Exception as error:  # the module changed under the benchmark: say so, measure the rest
            print(f"  piece {name!r} not measured: {type(error).__name__}: {error}", file=sys.stderr)
            costs[name] = None
    return costs


def _without_garbage_collection(work: Callable[[], None]) -> float:
    """CPU seconds of `work` with the garbage collector paused: this process also holds the benchmark's LivePerson,
    whose hundreds of thousands of objects each full collection would walk. A collector's process holds none of
    them; the black-box figures, which include its collections, are measured there."""
    gc.collect()
    gc.disable()
    try:
        started = time.process_time()
        work()
        return time.process_time() - started
    finally:
        gc.enable()


def steady_day(server: BenchLivePerson, state: Path, options: Options, start: datetime) -> dict[str, Any]:
    """One-minute runs from a drained instance, in process, the collector's clock a minute further each run.

    Each minute a few records arrive (none now and then, sometimes several in one second). State crosses runs
    only through the last run and the integration context, and each run imports the collector anew.
    """
    rng = random.Random(options.seed)
    per_run: list[Counter[str]] = []
    with environment(PLATFORM_VIRTUAL_TIME="1", REQUESTS_CA_BUNDLE=server.ca_bundle), fresh_imports():
        for minute in range(1, options.day_runs + 1):
            moment = start + timedelta(minutes=minute)
            server.add_records(data.make_record(moment + timedelta(seconds=second), rng) for second in arrivals(rng))
            first_call = len(server.requests)
            with environment(PLATFORM_CLOCK_OFFSET=str(minute * 60)):
                run_in_process(state)
            per_run.append(Counter(call.endpoint for call in server.requests[first_call:]))
    total = sum(per_run, Counter())
    runs = len(per_run)
    return {
        "runs": runs,
        "calls_per_run": sum(total.values()) / runs,
        "audit_per_run": total["audit"] / runs,
        "token_calls": total["token"],
        "domain_calls": total["domain"],
        "most_calls_in_a_run": max(sum(counts.values()) for counts in per_run),
        "runs_with_more_than_one_audit_call": sum(counts["audit"] > 1 for counts in per_run),
    }


def arrivals(rng: random.Random) -> list[int]:
    """The seconds, within a minute, of the records that arrive in it: none to six, sometimes in one second."""
    count = rng.choice([0, 1, 2, 3, 5, 6])
    second = rng.randrange(50)
    return sorted(second if rng.random() < 0.3 else rng.randrange(50) for _ in range(count))


def max_runs(options: Options) -> int:
    return math.ceil(options.records / options.max_fetch) + 10


# ------------------------------------------------------------------ the benchmark


def measure(options: Options, scratch: Path) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    day_start = now - timedelta(hours=25)  # the simulated day ends an hour ago: records are settled
    days = backlog_days(options.records)
    records = backlog(options.records, day_start, options.seed)
    result: dict[str, Any] = {"options": _jsonable(options)}
    with BenchLivePerson() as server:
        server.add_records(records)
        # Every process compiles what it imports from the project, as the platform compiles an integration every run.
        env = {**os.environ, "REQUESTS_CA_BUNDLE": server.ca_bundle, "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("XSIAM_REFUSE_CHUNKS", None)
        env.pop("PLATFORM_VIRTUAL_TIME", None)
        state = scratch / "instance"

        print(f"Drain of {options.records:,} records (warm-up; its calls are the floors' plan) ...", flush=True)
        configure(state, server, options, days)
        warm = drain_pipeline(server, state, env, scratch, max_runs(options))
        delivery = check_delivery(server, state)
        plans = {mode: write_plans(server, warm, mode, scratch) for mode in ("a", "b")}
        result["delivered"] = vars(delivery)
        result["process_starts_per_side"] = len(warm.runs)
        result["calls"] = _drain_calls(warm, options)
        result["memory"] = _memory(warm)
        result["last_run_bytes"] = len(json.dumps(json.loads((state / "last_run.json").read_text()), separators=(",", ":")))

        timings: dict[str, list[float]] = {side: [] for side in SIDES}
        cpu_times: dict[str, list[float]] = {side: [] for side in SIDES}
        shares: dict[str, list[float]] = {side: [] for side in SIDES}
        for round_number in range(options.rounds):
            order = SIDES[round_number % 3 :] + SIDES[: round_number % 3]
            print(f"Round {round_number + 1}/{options.rounds}: {', '.join(order)} ...", flush=True)
            for side in order:
                if side == "pipeline":
                    configure(scratch / "timed", server, options, days)
                    drain = drain_pipeline(server, scratch / "timed", env, scratch, max_runs(options))
                    if len(drain.runs) != len(warm.runs) or not check_delivery(server, scratch / "timed").exact:
                        raise BenchError("a timed drain differed from the warm-up drain")
                else:
                    sink = scratch / "floor.ndjson"
                    sink.unlink(missing_ok=True)
                    floor_env = {**env, "XSIAM_SINK_FILE": str(sink)}
                    drain, decoded = drain_floor(plans["a" if side == "floor_a" else "b"], floor_env, scratch)
                    if decoded < options.records:
                        raise BenchError(f"{side} decoded {decoded} records, fewer than the drain's")
                timings[side].append(drain.wall)
                cpu_times[side].append(drain.cpu)
                shares[side].append(drain.server_cpu / drain.wall)
        result["drain"] = _drain_ratios(timings, cpu_times, shares)

        print("CPU per record, in process ...", flush=True)
        cpu = cpu_per_record(server, options, days, scratch)
        result["cpu_us_per_record"] = {**cpu, "pieces": piece_costs(server.records, options)}
        if options.profile:
            print("Profile of an in-process drain ...", flush=True)
            result["profile"] = profile_drain(server, options, days, scratch)

        print(f"A simulated day: {options.day_runs} one-minute runs ...", flush=True)
        result["calls"]["steady"] = steady_day(server, state, options, day_start)
        result["delivered_after_day"] = vars(check_delivery(server, state))
    return result


def _jsonable(options: Options) -> dict[str, Any]:
    return {name: str(value) if isinstance(value, Path) else value for name, value in vars(options).items()}


def _drain_calls(drain: Drain, options: Options) -> dict[str, Any]:
    counts = drain.call_counts()
    return {
        "drain": dict(counts),
        "per_record": sum(counts.values()) / options.records,
        "pages_of_records": math.ceil(options.records / options.page_size),
    }


def _memory(drain: Drain) -> dict[str, Any]:
    largest = max(range(len(drain.runs)), key=lambda number: drain.sent[number])
    peak, idle_peak = drain.peak_memory_kb[largest], drain.peak_memory_kb[-1]  # the last run found nothing
    if peak is None or idle_peak is None:
        return {"records": drain.sent[largest], "unavailable": "peak memory is read from /proc (Linux)"}
    json_bytes = drain.sink_bytes[largest]
    return {
        "records": drain.sent[largest],
        "peak_rss_bytes": peak * 1024,
        "idle_run_peak_rss_bytes": idle_peak * 1024,
        "above_idle_bytes": (peak - idle_peak) * 1024,
        "records_json_bytes": json_bytes,
        "above_idle_over_json": (peak - idle_peak) * 1024 / json_bytes if json_bytes else None,
    }


def _drain_ratios(
    timings: dict[str, list[float]], cpu_times: dict[str, list[float]], shares: dict[str, list[float]]
) -> dict[str, Any]:
    median = {side: statistics.median(values) for side, values in timings.items()}
    cpu = {side: statistics.median(values) for side, values in cpu_times.items()}
    return {
        "pipeline_over_floor_b": median["pipeline"] / median["floor_b"],
        "pipeline_over_floor_a": median["pipeline"] / median["floor_a"],
        "floor_b_over_floor_a": median["floor_b"] / median["floor_a"],
        "pipeline_over_floor_b_per_round": [p / b for p, b in zip(timings["pipeline"], timings["floor_b"], strict=True)],
        "cpu_pipeline_over_floor_b": cpu["pipeline"] / cpu["floor_b"],
        "cpu_floor_b_over_floor_a": cpu["floor_b"] / cpu["floor_a"],
        "fake_cpu_share": {side: statistics.median(values) for side, values in shares.items()},
    }


# ------------------------------------------------------------------ the table


def table(result: dict[str, Any], command: str) -> str:
    options, drain, calls, cpu = result["options"], result["drain"], result["calls"], result["cpu_us_per_record"]
    memory, delivered, steady = result["memory"], result["delivered"], calls["steady"]
    starts = result["process_starts_per_side"]
    pieces = cpu["pieces"]
    piece_rows = [f"| … {name} | {_us(value)} | |" for name, value in pieces.items()]
    ratio = memory.get("above_idle_over_json")
    lines = [
        f"`{command}`: {options['records']:,} records, page {options['page_size']}, max_fetch {options['max_fetch']:,}, "
        f"{starts} fetch-events runs (so {starts} process starts on every side), {options['rounds']} rounds, medians.",
        "",
        "| measure | result | target |",
        "| --- | --- | --- |",
        f"| drain time, pipeline / floor (b) | **{drain['pipeline_over_floor_b']:.2f}x** | ≤ 1.2x |",
        f"| drain time, floor (b) / floor (a) | {drain['floor_b_over_floor_a']:.2f}x | |",
        f"| drain time, pipeline / floor (b), each round | "
        f"{', '.join(f'{value:.2f}x' for value in drain['pipeline_over_floor_b_per_round'])} | |",
        f"| drain CPU of the processes, pipeline / floor (b); floor (b) / floor (a) | "
        f"{drain['cpu_pipeline_over_floor_b']:.2f}x; {drain['cpu_floor_b_over_floor_a']:.2f}x | |",
        f"| fake LivePerson's CPU, share of the drain time (pipeline, floor b) | "
        f"{drain['fake_cpu_share']['pipeline']:.0%}, {drain['fake_cpu_share']['floor_b']:.0%} | small |",
        f"| API calls per record drained | {calls['per_record']:.4f}: {_counts(calls['drain'])} "
        f"for {calls['pages_of_records']} pages of records | the pages needed |",
        f"| API calls per steady-state run ({steady['runs']:,} one-minute runs) | {steady['calls_per_run']:.3f}: "
        f"audit {steady['audit_per_run']:.3f} a run, token {steady['token_calls']}, domain {steady['domain_calls']} "
        f"in all | 1 |",
        f"| collector's own CPU per record (in process, no HTTP: drain − floor (b)) | **{_us(cpu['module'])}** "
        f"({cpu['module'] / cpu['floor_b']:.2f}x floor (b)'s {_us(cpu['floor_b'])}) | ≤ 8 µs |",
        *piece_rows,
        f"| peak memory of the largest run ({memory['records']:,} records), above the run that found nothing | "
        + (
            f"**{_mb(memory['above_idle_bytes'])}** ({_mb(memory['peak_rss_bytes'])} RSS, idle "
            f"{_mb(memory['idle_run_peak_rss_bytes'])}); their JSON {_mb(memory['records_json_bytes'])}: "
            f"**{'n/a' if ratio is None else f'{ratio:.2f}x'}**"
            if "unavailable" not in memory
            else memory["unavailable"]
        )
        + " | ≤ 3x the JSON |",
        f"| last run after the drain | {result['last_run_bytes']:,} bytes | ≤ 4 KB |",
        f"| delivered (drain; after the day) | {delivered['events']:,} events, lost {delivered['lost']}, duplicated "
        f"{delivered['duplicated']}, not as served {delivered['differing']}; "
        f"{_delivery(result['delivered_after_day'])} | exact |",
    ]
    return "\n".join(lines)


def profile_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| own time | µs per record | calls | function |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {row['own_share']:.1%} | {row['own_us_per_record']:.2f} | {row['calls']:,} | `{row['function']}` |" for row in rows
    ]
    return "\n".join(lines)


def _us(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} µs"


def _mb(value: int) -> str:
    return f"{value / 2**20:.1f} MiB"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {counts.get(name, 0)}" for name in ("audit", "token", "domain"))


def _delivery(delivery: dict[str, int]) -> str:
    return f"{delivery['events']:,} events, lost {delivery['lost']}, duplicated {delivery['duplicated']}"


# ------------------------------------------------------------------ command line


def parse(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python3 -m Tests bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=Options.records)
    parser.add_argument("--page-size", type=int, default=Options.page_size)
    parser.add_argument("--max-fetch", type=int, default=Options.max_fetch)
    parser.add_argument("--rounds", type=int, default=Options.rounds)
    parser.add_argument("--day-runs", type=int, default=Options.day_runs)
    parser.add_argument("--seed", type=int, default=Options.seed)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where the figures go (default: %(default)s)")
    parser.add_argument("--profile", type=int, default=0, help="print this many top entries of a profile of a drain")
    arguments = parser.parse_args(argv)
    if arguments.records < 1 or arguments.rounds < 1 or arguments.day_runs < 1:
        parser.error("--records, --rounds and --day-runs must be at least 1")
    return Options(
        records=arguments.records,
        page_size=arguments.page_size,
        max_fetch=arguments.max_fetch,
        rounds=arguments.rounds,
        day_runs=arguments.day_runs,
        seed=arguments.seed,
        json_path=arguments.json,
        profile=arguments.profile,
    )


def main(argv: list[str]) -> int:
    options = parse(argv)
    command = " ".join(["python3 -m Tests bench", *argv])
    with tempfile.TemporaryDirectory(prefix="liveperson-bench-") as folder:
        result = measure(options, Path(folder))
    result["command"] = command
    result["table"] = table(result, command)
    print("\n" + result["table"])
    if options.profile:
        print("\nWhere an in-process drain spends its time (own time, top entries):\n\n" + profile_table(result["profile"]))
    options.json_path.parent.mkdir(parents=True, exist_ok=True)
    options.json_path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\nFigures written to {options.json_path}")
    return 0 if result["delivered"]["lost"] == result["delivered"]["duplicated"] == 0 else 1
