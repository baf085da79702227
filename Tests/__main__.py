"""One entry point that needs nothing but Python 3.11 and pip on a fresh clone.

    python3 -m Tests test        unit + end-to-end tests (+ soak at CI size), with the module's coverage: what CI runs
    python3 -m Tests test --quick  the quick loop: unit tests and the fast end-to-end tests, without coverage (under
                                 a minute); it leaves out the tests marked soak, bench or slow
    python3 -m Tests demo        the local runner against the fake LivePerson API
    python3 -m Tests run ...     the local runner's other sub-commands (see `python3 -m Tests run --help`)
    python3 -m Tests tenant ...  the pack on a Cortex XSOAR / XSIAM tenant via demisto-py (`tenant demo`: offline)
    python3 -m Tests bench ...   the drain benchmark against its floors (see `python3 -m Tests bench --help`)
    python3 -m Tests soak ...    the fault soak or the condition soak at any size (see `python3 -m Tests soak --help`)
    python3 -m Tests fake ...    the fake LivePerson API on its own, until Ctrl-C (see `python3 -m Tests fake --help`)
    python3 -m Tests --help      this text

The first call creates `.venv/` beside this folder and installs the pinned dependencies of pyproject.toml's
`test` extra into it; later calls reuse it (a stamp of the dependency list decides when to reinstall).
Then the command re-runs itself inside that virtual environment.

`test` runs with a temporary directory of its own (TMPDIR, for the soak's processes too) and removes it at the end:
pytest's own folders go with it (`--basetemp DIR` keeps them), and anything else left in it fails the run, so that
nothing the tests start (the fake's TLS folders, say) can leave files behind in the system's temporary directory.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"


def _requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["test"]]


def _inside_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def _ensure_venv() -> None:
    requirements = _requirements()
    stamp = VENV / f".deps-{hashlib.sha256(' '.join(requirements).encode()).hexdigest()[:16]}"
    if stamp.exists():
        return
    if not VENV_PYTHON.exists():
        print(f"Creating {VENV.relative_to(ROOT)} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing the pinned test dependencies (first run only) ...", flush=True)
    # -qq: pip's errors only (its warnings are about the machine's package index configuration, not this project)
    subprocess.run([str(VENV_PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-qq", *requirements], check=True)
    for old in VENV.glob(".deps-*"):
        old.unlink()
    stamp.touch()


# What the quick loop leaves out: the soaks, the benchmark, and the tests marked slow (pyproject.toml's markers).
QUICK = ["-m", "not soak and not bench and not slow", "--no-cov", "-q"]


def _run_tests(extra: list[str]) -> int:
    import pytest  # noqa: PLC0415 - present only inside .venv, which this module creates

    quick = "--quick" in extra
    extra = [arg for arg in extra if arg != "--quick"]
    args = [*QUICK, *extra] if quick else ["--cov", "--cov-report=term-missing", *extra]
    temporary = Path(tempfile.mkdtemp(prefix="liveperson-tests-"))
    os.environ["TMPDIR"] = str(temporary)
    tempfile.tempdir = None  # read TMPDIR again
    try:
        code = pytest.main(args)
    finally:
        left = left_behind(temporary)
        shutil.rmtree(temporary, ignore_errors=True)
    if left:
        print(f"FAILED: the tests left {len(left)} item(s) in the temporary directory (removed now): {', '.join(left)}")
        return int(code) or 1
    return int(code)


def left_behind(temporary: Path) -> list[str]:
    """What a test run left in its temporary directory, but pytest's own folder (pytest-of-<user>)."""
    return sorted(path.name for path in temporary.iterdir() if not path.name.startswith("pytest-of-"))


def _run_runner(argv: list[str]) -> int:
    from Tests import runner  # noqa: PLC0415 - needs the packages of .venv

    return runner.main(argv)


def _run_bench(argv: list[str]) -> int:
    from Tests.bench import bench  # noqa: PLC0415 - needs the packages of .venv

    return bench.main(argv)


def run_inside_venv(module: str, argv: list[str]) -> None:
    """Outside .venv, makes it (first call only) and runs `python -m <module> <argv>` again inside it, in place of this
    process; inside .venv, returns. A `__main__` calls it before it imports anything of the test dependencies."""
    if _inside_venv():
        return
    _ensure_venv()
    os.chdir(ROOT)
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), "-m", module, *argv])


HELP = ("-h", "--help", "help")


def main(argv: list[str]) -> int:
    if argv and argv[0] in HELP:  # needs nothing installed
        print(__doc__)
        return 0
    run_inside_venv("Tests", argv)
    os.chdir(ROOT)
    command, rest = (argv[0], argv[1:]) if argv else ("test", [])
    if command == "test":
        return _run_tests(rest)
    if command == "demo":
        return _run_runner(["demo", *rest])
    if command == "run":
        return _run_runner(["run", *rest])
    if command == "tenant":
        from Tests.tenant import cli  # noqa: PLC0415 - needs the packages of .venv

        return cli.main(rest)
    if command == "bench":
        return _run_bench(rest)
    if command == "soak":
        from Tests.soak import soak  # noqa: PLC0415 - needs the packages of .venv

        return soak.main(rest)
    if command == "fake":
        from Tests.fake_liveperson import __main__ as fake  # noqa: PLC0415 - needs the packages of .venv

        return fake.main(rest)
    print(f"Unknown command {command!r}.\n{__doc__}")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
