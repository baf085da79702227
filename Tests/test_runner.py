"""The local tools a new user meets first: `python3 -m Tests run` and `demo`, the standalone fake, and the test command's
temporary directory."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from Tests import runner

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------ run and configure


def test_run_without_a_command_shows_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    """
    Given `python3 -m Tests run` with nothing after it
    When it runs
    Then it shows its help with the commands it knows and an example, not an error about required arguments
    """
    assert runner.main(["run"]) == 2
    shown = capsys.readouterr()
    assert "required" not in shown.out + shown.err
    assert "{configure,test-module,fetch-events,liveperson-get-events}" in shown.out
    assert "python3 -m Tests run configure account_id=12345678 client_id=...     # asks for the client secret" in shown.out


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (["account_id=bad id!"], '"Account ID" must be 1 to 20 letters, digits or underscores'),
        (["max_fetch=lots"], '"Maximum number of events per fetch" must be a whole number from 1 to 50000, not "lots".'),
        (["auth_server_url=http://va.sentinel.liveperson.net"], '"Authorization server (Sentinel) host" must use https://'),
        (["acount_id=12345678"], "Unknown setting acount_id: the settings are account_id, domain_api_url, auth_server_url,"),
        (["ca_bundle=/nowhere/ca.pem"], '"ca_bundle" must be a CA certificate file; there is no file at /nowhere/ca.pem.'),
    ],
)
def test_configure_refuses_what_the_integration_would_refuse_and_saves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, settings: list[str], message: str
) -> None:
    """
    Given a configured instance, and a new value the integration would refuse (or a setting it does not have)
    When `run configure` is given it
    Then it answers with the integration's own message, says nothing was saved, and the instance is unchanged
    """
    for name in runner.SETTINGS_FROM_ENV:
        monkeypatch.delenv(f"LIVEPERSON_{name.upper()}", raising=False)
    monkeypatch.setenv("LIVEPERSON_CLIENT_SECRET", "SECRET-do-not-show")
    state = tmp_path / "instance"
    good = ["account_id=12345678", "client_id=id"]
    assert runner.main(["run", "--state", str(state), "configure", *good]) == 0
    saved = (state / "params.json").read_text()
    capsys.readouterr()
    assert runner.main(["run", "--state", str(state), "configure", *settings]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"configure: {message}")
    assert out.rstrip().endswith("Nothing was saved.")
    assert (state / "params.json").read_text() == saved
    assert "SECRET-do-not-show" not in out


def test_commands_on_an_unconfigured_instance_say_how_to_configure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    Given no instance yet and no LIVEPERSON_* variables
    When `run test-module` runs
    Then it says what is missing and the configure command to run, and saves nothing
    """
    for name in [*runner.SETTINGS_FROM_ENV, "client_secret"]:
        monkeypatch.delenv(f"LIVEPERSON_{name.upper()}", raising=False)
    state = tmp_path / "none"
    assert runner.main(["run", "--state", str(state), "test-module"]) == 1
    out = capsys.readouterr().out
    assert '"Account ID" is empty' in out
    assert f"python3 -m Tests run --state {state} configure account_id=... client_id=...   (the client secret: asked" in out
    assert not (state / "params.json").exists()


# ------------------------------------------------------------------ the standalone fake, as the README says


def test_the_standalone_fake_prints_the_one_command_that_points_run_at_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    Given the standalone fake started as the README says
    When the configure command it prints is run (into a scratch instance), then test-module and fetch-events
    Then test-module answers ok and events are delivered; on SIGTERM the fake stops and leaves nothing in the
    temporary directory
    """
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    fake = subprocess.Popen(
        [sys.executable, "-m", "Tests.fake_liveperson", "--seed-days", "1", "--per-day", "300"],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(temporary)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert fake.stdout is not None
        lines = [fake.stdout.readline() for _ in range(3)]
        secret, *words = shlex.split(lines[2])
        variable, _, value = secret.partition("=")
        assert variable == "LIVEPERSON_CLIENT_SECRET" and value
        assert words[:7] == ["python3", "-m", "Tests", "run", "--state", ".state/fake", "configure"]
        assert readme_fake_command()[:8] == ["LIVEPERSON_CLIENT_SECRET=...", *words[:7]]
        assert [word.split("=")[0] for word in readme_fake_command()[8:]] == [word.split("=")[0] for word in words[7:]]
        assert not [word for word in words if value in word]  # the secret is in the command's environment only
        state = tmp_path / "fake-instance"
        words[5] = str(state)
        monkeypatch.setenv(variable, value)
        assert runner.main([*words[3:], "first_fetch=2 days"]) == 0
        assert runner.main(["run", "--state", str(state), "test-module"]) == 0
        assert runner.main(["run", "--state", str(state), "fetch-events"]) == 0
        assert len(runner.delivered_events(state)) > 0
    finally:
        fake.send_signal(signal.SIGTERM)
        fake.communicate(timeout=30)
    assert fake.returncode == 0
    assert list(temporary.iterdir()) == []


def readme_fake_command() -> list[str]:
    """The configure command the README shows for the standalone fake (continuation lines joined)."""
    text = (ROOT / "README.md").read_text().replace("\\\n", " ")
    line = next(line for line in text.splitlines() if "python3 -m Tests run --state .state/fake configure" in line)
    return shlex.split(line)


# ------------------------------------------------------------------ the demo explains its numbers


def test_the_demo_explains_what_the_settings_leave_out_and_what_arrives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """
    Given the demo on a small backlog
    When its output is read
    Then the records the settings leave out, and the ones that arrive during the demo, account for every difference
    between the counts it shows, and each run says how far collection got
    """
    code = runner.main(["demo", "--days", "1", "--per-day", "800", "--append-cycles", "2", "--state", str(tmp_path / "demo")])
    out = capsys.readouterr().out
    assert code == 0
    held, selected = map(int, re.search(r"(\d+) records at \S+; the instance's settings select (\d+) of them", out).groups())  # type: ignore[union-attr]
    left_out = int(re.search(r'Left out: (\d+) automatic updates, as "Include automatic updates" is off', out).group(1))  # type: ignore[union-attr]
    assert held - left_out == selected
    arrived = sum(int(count) for count in re.findall(r"\+(\d+) new", out))
    final = re.search(r"the fake holds (\d+) records, the settings select (\d+) of them \(left out: (\d+) automatic", out)
    assert final is not None
    final_held, final_selected, final_left_out = map(int, final.groups())
    assert final_selected == selected + arrived
    assert final_held - final_left_out == final_selected
    assert "the number to collect grows" in out
    runs = [line for line in out.splitlines() if line.startswith("cycle")]
    assert runs and all(re.search(r"collected up to \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", line) for line in runs)
    assert "cursor" not in out
    assert "Sentinel at 127.0.0.1:" in out
    assert json.loads((tmp_path / "demo" / "params.json").read_text()).get("auth_server_url") is None


# ------------------------------------------------------------------ python3 -m Tests test leaves no temporary files


@pytest.mark.parametrize(("leaks", "code"), [(False, 0), (True, 1)])
def test_the_test_command_fails_on_anything_left_in_the_temporary_directory(tmp_path: Path, leaks: bool, code: int) -> None:
    """
    Given a test that leaves a folder in the temporary directory, or one that does not
    When `python3 -m Tests test` runs it
    Then the leak fails the run and is named, the clean run passes, and either way the system's temporary directory
    holds nothing afterwards
    """
    planted = tmp_path / "test_planted.py"
    body = "tempfile.mkdtemp(prefix='planted-leak-')" if leaks else "tempfile.TemporaryDirectory().cleanup()"
    planted.write_text(f"import tempfile\n\n\ndef test_planted(tmp_path):\n    {body}\n    (tmp_path / 'kept').touch()\n")
    system_temporary = tmp_path / "system-tmp"
    system_temporary.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "Tests", "test", "-p", "no:cacheprovider", "--no-cov", str(planted)],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(system_temporary)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == code, done.stdout + done.stderr
    assert ("planted-leak-" in done.stdout) is leaks
    assert list(system_temporary.iterdir()) == []


# ------------------------------------------------------------------ the commands the README gives, as written there


def system_python() -> str:
    """The interpreter .venv was made from: the machine's python3, without the test packages."""
    return str(Path(sys.base_prefix) / "bin" / "python3")


@pytest.mark.parametrize("words", [["--help"], ["-h"], ["help"]])
def test_help_prints_the_usage_and_succeeds(words: list[str]) -> None:
    """
    Given `python3 -m Tests --help` (or -h, or help) under the machine's python3
    When it runs
    Then it prints the usage, every command in it, and exits 0
    """
    done = subprocess.run([system_python(), "-m", "Tests", *words], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    for command in ("test", "demo", "run", "tenant", "bench", "soak", "fake"):
        assert f"python3 -m Tests {command}" in done.stdout


def test_an_unknown_command_is_refused_with_the_usage() -> None:
    """
    Given `python3 -m Tests` with a command it does not have
    When it runs
    Then it names the command, prints the usage and exits 2
    """
    done = subprocess.run([sys.executable, "-m", "Tests", "colour"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "Unknown command 'colour'" in done.stdout
    assert "python3 -m Tests run ..." in done.stdout


@pytest.mark.parametrize(
    "words",
    [["-m", "Tests.soak", "--help"], ["-m", "Tests", "soak", "--help"], ["-m", "Tests", "fake", "--help"]],
)
def test_the_soak_and_fake_commands_run_under_the_machines_python(words: list[str]) -> None:
    """
    Given the soak and fake commands as the README writes them, under the machine's python3 (no test packages)
    When they run
    Then they run inside .venv and print their usage, instead of dying on a missing package
    """
    done = subprocess.run([system_python(), *words], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "usage: python3 -m Tests " in done.stdout


def test_the_readme_runs_the_tools_through_the_one_entry_point() -> None:
    """
    Given the README
    When its commands are read
    Then none of them runs a tool's module directly with python3 (which has not the test packages): they go through
    `python3 -m Tests`, which runs them inside .venv
    """
    text = (ROOT / "README.md").read_text()
    assert not re.findall(r"python3? -m Tests\.(?!soak\b)\w+", text)
    assert "python3 -m Tests soak --conditions" in text


# ------------------------------------------------------------------ LivePerson down


def test_with_liveperson_down_the_commands_name_the_host_and_setting_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    Given an instance that worked against the fake LivePerson (hosts and token cached), and the fake then stopped
    When test-module and fetch-events run
    Then each fails naming the host it could not reach and the setting to check, never the platform library's
    "server URL parameter" (a setting this integration does not have), without pausing to retry a connection that
    nothing answers; and test-module's summary reports no host, as this run's lookup found none
    """
    from Tests import platform_run  # noqa: PLC0415
    from Tests.fake_liveperson import FakeLivePerson  # noqa: PLC0415

    for name in runner.SETTINGS_FROM_ENV:
        monkeypatch.delenv(f"LIVEPERSON_{name.upper()}", raising=False)
    monkeypatch.setenv("PLATFORM_VIRTUAL_TIME", "1")  # a pause moves the instance's clock: counted, not waited
    state = tmp_path / "instance"
    with FakeLivePerson(seed=3) as fake:
        runner.configure_for_fake(state, fake)
        host = fake.url.removeprefix("https://")
        assert runner.main(["run", "--state", str(state), "test-module"]) == 0
        assert f"the Domain API found Audit Trail at {host}" in capsys.readouterr().out
    assert runner.main(["run", "--state", str(state), "test-module"]) == 1
    out = capsys.readouterr().out
    assert f'Domain API lookup failed: Could not reach {host} (connection refused): check "Domain API URL"' in out
    assert "no host found through the Domain API in this run" in out
    assert "Audit Trail at" not in out
    outcome = platform_run.run_command(state, "fetch-events")
    assert outcome.error is not None
    assert f'Could not reach {host} (connection refused): check "Domain API URL"' in outcome.error
    assert "server URL parameter" not in outcome.error
    assert outcome.virtual_seconds == 0


# ------------------------------------------------------------------ secrets: never on the command line, never readable by others


def test_a_secret_on_the_command_line_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    Given `run configure ... client_secret=...`, as the README once wrote it
    When it runs
    Then it is refused, naming the environment variable (and the prompt) to use instead, the secret is not printed,
    and nothing is saved
    """
    monkeypatch.delenv("LIVEPERSON_CLIENT_SECRET", raising=False)
    state = tmp_path / "instance"
    words = ["account_id=12345678", "client_id=id", "client_secret=ARGV-SECRET-do-not-keep"]
    assert runner.main(["run", "--state", str(state), "configure", *words]) == 1
    out = capsys.readouterr().out
    assert out.startswith("configure: client_secret is never taken from the command line, where others can read it: ")
    assert "set LIVEPERSON_CLIENT_SECRET, or leave it out to be asked for it." in out
    assert "ARGV-SECRET-do-not-keep" not in out
    assert not (state / "params.json").exists()


CREDENTIALS_PARAMETERS = [parameter for parameter in runner.secret_parameters() if parameter.identifier_key]


@pytest.mark.parametrize("parameter", CREDENTIALS_PARAMETERS, ids=lambda parameter: parameter.name)
def test_every_secret_comes_from_its_environment_variable_or_a_prompt(parameter: Any) -> None:
    """
    Given any credentials parameter of the manifest (type 9: its password half is the secret), its identifier given
    When configure reads the secrets, with the secret in the environment variable named after it, or with nothing
    there but a prompt
    Then the instance holds the secret from that variable, or from the prompt, which named the secret it asked for;
    configure's output shows neither. A secret of a way in the instance does not use is not read
    """
    params = {parameter.name: {"identifier": "id-1"}}
    runner.read_secrets(params, {str(parameter.secret_variable): "FROM-ENV-secret"}, None)
    assert params[parameter.name] == {"identifier": "id-1", "password": "FROM-ENV-secret"}
    asked: list[str] = []

    def prompt(text: str) -> str:
        asked.append(text)
        return "FROM-PROMPT-secret"

    params = {parameter.name: {"identifier": "id-1"}}
    runner.read_secrets(params, {}, prompt)
    assert params[parameter.name] == {"identifier": "id-1", "password": "FROM-PROMPT-secret"}
    assert f"{parameter.secret_label} for {parameter.name} (input hidden): " in asked
    assert "FROM-PROMPT-secret" not in json.dumps(runner.shown_settings(params))
    unused: dict[str, Any] = {}
    runner.read_secrets(unused, {str(parameter.secret_variable): "FROM-ENV-secret"}, None)
    assert parameter.name not in unused or parameter.required


def test_the_instance_folder_and_its_secret_files_are_readable_by_the_user_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    Given an instance folder and params.json left readable by others (as an earlier runner wrote them)
    When configure and a run against the fake LivePerson write them again
    Then the folder is 0700 and params.json (the client secret) and the integration context (the token) are 0600
    """
    from Tests.fake_liveperson import FakeLivePerson  # noqa: PLC0415

    state = tmp_path / "instance"
    state.mkdir(mode=0o755)
    (state / "params.json").write_text("{}")
    (state / "params.json").chmod(0o644)
    with FakeLivePerson(seed=4) as fake:
        runner.configure_for_fake(state, fake)
        assert runner.main(["run", "--state", str(state), "test-module"]) == 0
    assert state.stat().st_mode & 0o777 == 0o700
    for name in ("params.json", "integration_context.json"):
        assert (state / name).stat().st_mode & 0o777 == 0o600, name
