"""The fake tenant's engine: one command of the uploaded integration in a fresh process, through Tests/platform_run.py.

    python -m Tests.tenant.engine STATE COMMAND [key=value ...]

STATE is the instance's folder (see Tests/platform_run.py: params.json, last run, integration context, the events
it sent) plus `code/<module>.py`, the script that was uploaded, as a tenant stores it: unified, without the platform
imports. A tenant runs it with its platform library in front; `PROLOGUE` stands in for that, so the code that runs
is the code that was uploaded. Prints one JSON line: {"results": [...], "error": ..., "events_sent": n}.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from Tests import platform_run

MODULE = "LivePersonAuditTrail"  # the name Tests/platform_run.py imports
PROLOGUE = '''import demistomock as demisto
from CommonServerPython import *


def register_module_line(module_name, start_end, line, wrapper=0):
    """The platform library's line bookkeeping for error messages; nothing to keep here."""


def __line__():
    return 0


'''


def install_script(state: Path, script: str) -> Path:
    """Writes the uploaded script where `run` imports it from."""
    code = state / "code"
    code.mkdir(parents=True, exist_ok=True)
    path = code / f"{MODULE}.py"
    path.write_text(PROLOGUE + script)
    return path


def run(state: Path, command: str, args: dict[str, str]) -> dict:
    sys.path.insert(0, str(state / "code"))  # before the checkout's module, which platform_run put on the path
    outcome = platform_run.run_command(state, command, args)
    return {"results": outcome.results, "error": outcome.error, "events_sent": outcome.events_sent}


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    state = Path(argv[0])
    if not (state / "code" / f"{MODULE}.py").exists():
        print(json.dumps({"results": [], "error": "the integration's script is not installed", "events_sent": 0}))
        return 1
    print(json.dumps(run(state, argv[1], platform_run.parse_args(argv[2:])), default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
