"""The platform in miniature: runs one command of the integration the way Cortex XSIAM does.

An instance lives in a state folder, readable by its user alone (0700; params.json and the integration context,
which hold the secret and the token, 0600):

    params.json               the instance settings (the manifest's parameter names)
    last_run.json             what demisto.setLastRun saved (the cursor)
    integration_context.json  what demisto.setIntegrationContext saved (cached host and token)
    events.ndjson             every event the platform accepted (stands in for the XSIAM dataset)
    log.txt                   the integration's log lines, one run after another
    ca.pem                    optional: a CA the instance trusts (the fake's), as an engine trusts custom certificates

`run_command` runs one command in this process; `python -m Tests.platform_run STATE COMMAND [key=value ...]`
runs it in a fresh process, as the platform does for every scheduled run. Last run and integration context
are read before and written after the run, so state crosses runs only the way it does on the platform.
Environment: XSIAM_REFUSE_CHUNKS (refuse those send chunks of this run), REQUESTS_CA_BUNDLE (trust a test CA),
PLATFORM_VIRTUAL_TIME=1 (the integration's pauses move a virtual clock instead of waiting: for soak runs),
PLATFORM_CLOCK=<epoch seconds> (the integration's clock starts there: a simulated time, also virtual).
PLATFORM_CLOCK_OFFSET=seconds (the same, that far ahead of now: a simulated day of scheduled runs, in which
cached tokens and hosts expire as they would).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOUBLES = ROOT / "Tests" / "doubles"
CA_BUNDLE = "ca.pem"
INTEGRATION = ROOT / "Packs" / "LivePerson" / "Integrations" / "LivePersonAuditTrail"
for _path in (DOUBLES, INTEGRATION):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import demistomock as demisto  # noqa: E402


class VirtualClock:
    """Stands in for the integration's `time` module: sleeping moves the clock instead of waiting."""

    def __init__(self, start_at: float | None = None) -> None:
        self.offset = 0.0 if start_at is None else start_at - time.time()
        self.pauses: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.offset += seconds

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def time(self) -> float:
        return time.time() + self.offset


@dataclass
class Outcome:
    """What one run left behind: its war-room entries, log lines, whether it failed, and how long it took."""

    command: str
    results: list[Any] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    virtual_seconds: float = 0.0
    events_sent: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


def _read_json(path: Path, default: Any) -> Any:
    return json.loads(path.read_text()) if path.exists() else default


def private_folder(path: Path) -> None:
    """The folder, made if needed, that only its user may open (an instance's state holds its secrets)."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)


def write_private(path: Path, text: str) -> None:
    """Writes the file readable and writable by its user alone, atomically: a killed run leaves the old document, as
    the platform's store does."""
    temporary = path.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)  # created anew below, so with the mode given
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        handle.write(text)
    temporary.replace(path)


def _write_json(path: Path, value: Any) -> None:
    write_private(path, json.dumps(value, indent=1, sort_keys=True))


def parse_args(pairs: list[str]) -> dict[str, str]:
    """`key=value` words, as typed after a command in the war room."""
    args = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator:
            raise SystemExit(f"argument {pair!r} is not key=value")
        args[key] = value
    return args


def run_command(state: Path, command: str, args: dict[str, str] | None = None, clock_at: float | None = None) -> Outcome:
    """Runs one command of the integration against the instance kept in `state`, its clock at `clock_at` if given."""
    private_folder(state)
    outcome = Outcome(command)
    params = _read_json(state / "params.json", {})
    stored = {
        "last_run": _read_json(state / "last_run.json", {}),
        "context": _read_json(state / "integration_context.json", {}),
    }
    sink = state / "events.ndjson"

    def keep(key: str) -> Any:
        def setter(value: Any) -> None:
            stored[key] = json.loads(json.dumps(value))  # the platform stores JSON documents
            _write_json(state / ("last_run.json" if key == "last_run" else "integration_context.json"), stored[key])

        return setter

    def log(message: Any, *rest: Any) -> None:
        outcome.logs.append(str(message))

    hooks = {
        "params": lambda: params,
        "args": lambda: dict(args or {}),
        "command": lambda: command,
        "getLastRun": lambda: json.loads(json.dumps(stored["last_run"])),
        "setLastRun": keep("last_run"),
        "getIntegrationContext": lambda: json.loads(json.dumps(stored["context"])),
        "setIntegrationContext": keep("context"),
        "results": outcome.results.append,
        "debug": log,
        "info": log,
        "error": log,
    }
    saved_hooks = {name: getattr(demisto, name) for name in hooks}
    environment = {"XSIAM_SINK_FILE": str(sink)}
    if (state / CA_BUNDLE).exists():
        environment["REQUESTS_CA_BUNDLE"] = str(state / CA_BUNDLE)
    saved_environment = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    started = time.monotonic()
    clock: VirtualClock | None = None
    library: Any = None
    accepted_before = 0
    try:
        for name, hook in hooks.items():
            setattr(demisto, name, hook)
        import LivePersonAuditTrail  # noqa: PLC0415 - imported once the platform is in place, as on the platform

        library = sys.modules["CommonServerPython"]  # the platform library the integration imported: it counts what it took
        accepted_before = library.events_accepted_in_process
        if clock_at is None and os.environ.get("PLATFORM_CLOCK"):
            clock_at = float(os.environ["PLATFORM_CLOCK"])
        if clock_at is None and os.environ.get("PLATFORM_CLOCK_OFFSET"):
            clock_at = time.time() + float(os.environ["PLATFORM_CLOCK_OFFSET"])
        if os.environ.get("PLATFORM_VIRTUAL_TIME") == "1" or clock_at is not None:
            clock = VirtualClock(clock_at)
            real_time, LivePersonAuditTrail.time = LivePersonAuditTrail.time, clock  # type: ignore[assignment]
        with contextlib.suppress(SystemExit):  # return_error ends the process on the platform
            LivePersonAuditTrail.main()
    finally:
        if clock is not None:
            LivePersonAuditTrail.time = real_time  # type: ignore[assignment]
        for name, hook in saved_hooks.items():
            setattr(demisto, name, hook)
        for name, value in saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    outcome.seconds = time.monotonic() - started
    outcome.virtual_seconds = sum(clock.pauses) if clock else 0.0
    outcome.events_sent = library.events_accepted_in_process - accepted_before if library else 0
    errors = [entry for entry in outcome.results if isinstance(entry, dict) and entry.get("Type") == 4]
    if errors:
        outcome.error = str(errors[-1].get("Contents"))
    elif command == "test-module" and outcome.results != ["ok"]:  # the platform shows any other answer as a failure
        outcome.error = str(outcome.results[-1] if outcome.results else "no answer")
    with (state / "log.txt").open("a") as handle:
        handle.write(f"--- {command} {'ok' if outcome.ok else 'error'} in {outcome.seconds:.2f} s\n")
        handle.writelines(f"{line}\n" for line in outcome.logs)
    return outcome


def peak_memory_kb() -> int | None:
    """This process's peak resident memory since it started its program (Linux's VmHWM), or None without /proc.

    Not getrusage's ru_maxrss: that also counts the parent's memory the process had before it exec'd.
    """
    status = Path("/proc/self/status")
    if not status.exists():
        return None
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


def readable(entry: Any) -> str:
    """How the war room shows an entry."""
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict):
        return str(entry.get("HumanReadable") or entry.get("Contents"))
    return str(entry)


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    outcome = run_command(Path(argv[0]), argv[1], parse_args(argv[2:]))
    for entry in outcome.results:
        print(readable(entry))
    summary = {"command": outcome.command, "ok": outcome.ok, "sent": outcome.events_sent, "error": outcome.error}
    summary.update(seconds=round(outcome.seconds, 3), virtual_seconds=outcome.virtual_seconds, peak_memory_kb=peak_memory_kb())
    print(json.dumps(summary))
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
