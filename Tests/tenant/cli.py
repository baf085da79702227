"""The pack on a Cortex XSOAR / XSIAM tenant: upload it, configure an instance, test it, run a command, see its status.

    python3 -m Tests tenant upload [--zip PATH]
    python3 -m Tests tenant configure --name NAME [--params FILE] [key=value ...]
    python3 -m Tests tenant test NAME
    python3 -m Tests tenant run NAME '!liveperson-get-events limit=5' [--investigation-id ID] [--raw]
    python3 -m Tests tenant status NAME
    python3 -m Tests tenant demo            all of it against a fake tenant and a fake LivePerson, offline

The tenant comes from demisto-py's variables: DEMISTO_BASE_URL (the API URL), DEMISTO_API_KEY (or
DEMISTO_ADVANCED_API_KEY), XSIAM_AUTH_ID (the key's ID, for Cortex XSIAM and XSOAR 8), DEMISTO_VERIFY_SSL.
`configure` takes the manifest's parameter names (client_id for the credentials' Client ID); the client secret
comes from LIVEPERSON_CLIENT_SECRET or a prompt, never from the command line.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import shlex
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from Tests.tenant import packaging
from Tests.tenant.client import TenantClient, TenantError, TenantSettings
from Tests.tenant.instance import (
    current_values,
    differences_from_manifest,
    fetching,
    find_health,
    find_instance,
    instance_body,
    module_configuration,
)
from Tests.tenant.manifest import (
    CREDENTIALS,
    ConfigurationError,
    Manifest,
    check_values,
    load_params_file,
    missing_required,
    parse_assignments,
    read_secret,
)
from Tests.tenant.render import entry_as_text

SECRET_VARIABLES = ("DEMISTO_API_KEY", "DEMISTO_ADVANCED_API_KEY")
STAGE = re.compile(r"^(?P<stage>[^:\n]{3,60}) failed: (?P<detail>.*)$", re.DOTALL)


@dataclass
class Session:
    """What a command needs: the environment it reads the tenant from, where it writes, and how it asks for a secret."""

    environment: Mapping[str, str]
    out: TextIO
    err: TextIO
    prompt: Callable[[str], str] | None
    manifest: Manifest = field(default_factory=Manifest.load)
    _client: TenantClient | None = None
    _secrets: list[str] = field(default_factory=list)  # secrets read from a prompt, scrubbed like the environment's

    def client(self) -> TenantClient:
        if self._client is None:
            self._client = TenantClient(TenantSettings.from_environment(self.environment))
        return self._client

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def keep_out_of_messages(self, secret: str) -> None:
        self._secrets.append(secret)

    def scrub(self, text: str) -> str:
        """Removes every secret the environment holds from a message (last line of defence for unexpected errors)."""
        names = [*SECRET_VARIABLES, *(name for name in self.environment if name.startswith("LIVEPERSON_"))]
        for value in [*(self.environment.get(name, "") for name in names), *self._secrets]:
            if len(value) >= 4:
                text = text.replace(value, "<redacted>")
        return text

    def integration_on_tenant(self, search: Mapping[str, Any]) -> dict[str, Any]:
        configuration = module_configuration(search, self.manifest.integration_id)
        if configuration is None:
            raise TenantError(
                f"the integration {self.manifest.integration_id} is not on the tenant",
                "upload the pack first: python3 -m Tests tenant upload",
            )
        return configuration

    def instance_on_tenant(self, search: Mapping[str, Any], name: str) -> dict[str, Any]:
        instance = find_instance(search, name)
        if instance is None:
            raise TenantError(
                f"the tenant has no instance named {name}", "the name, or create it: python3 -m Tests tenant configure --name ..."
            )
        return instance


# ------------------------------------------------------------------ the commands


def upload(session: Session, arguments: argparse.Namespace) -> int:
    client = session.client()
    with tempfile.TemporaryDirectory(prefix="liveperson-pack-") as folder:
        if arguments.zip:
            zip_path = Path(arguments.zip)
            if not zip_path.is_file():
                raise TenantError(f"{zip_path} is not a file", "the path given to --zip")
        else:
            session.say("building the pack with demisto-sdk prepare-content -mp marketplacev2 ...")
            zip_path = packaging.build_with_sdk(Path(folder))
        session.say(f"uploading {zip_path.name} ({zip_path.stat().st_size} bytes) to {client.api_url} ...")
        client.upload_pack(zip_path)
    configuration = module_configuration(client.search(), session.manifest.integration_id)
    if configuration is None:
        raise TenantError(
            f"the tenant accepted the upload but lists no {session.manifest.integration_id}",
            "the pack's marketplaces (marketplacev2 for Cortex XSIAM) and the tenant's installed content",
        )
    commands = ", ".join(command["name"] for command in configuration.get("integrationScript", {}).get("commands") or [])
    session.say(
        f"uploaded: {configuration.get('display')} ({configuration['id']}), "
        f"{len(configuration.get('configuration') or [])} parameters, commands: {commands}"
    )
    return 0


def _given_values(arguments: argparse.Namespace) -> dict[str, Any]:
    given: dict[str, Any] = {}
    if arguments.params:
        given.update(load_params_file(Path(arguments.params)))
    given.update(parse_assignments(arguments.values))
    return given


def _with_secrets(session: Session, values: dict[str, Any]) -> dict[str, Any]:
    """The values plus every secret the instance needs, read from the environment or a prompt."""
    values = dict(values)
    for parameter in session.manifest.settable():
        if not parameter.is_secret or not (parameter.required or parameter.name in values):
            continue
        if parameter.type == CREDENTIALS and not values.get(parameter.name, {}).get("identifier"):
            values[parameter.name] = {"identifier": ""}  # cleared (the other way in is used): no secret to ask for
            continue
        secret = read_secret(parameter, session.environment, session.prompt)
        session.keep_out_of_messages(secret)
        if parameter.type == CREDENTIALS:
            values[parameter.name] = {**values.get(parameter.name, {}), "password": secret}
        else:
            values[parameter.name] = secret
    return values


def _shown(value: Any) -> str:
    if isinstance(value, dict):  # credentials: the identifier, never the secret
        return f"{value.get('identifier', '')} / <secret set>"
    return json.dumps(value) if not isinstance(value, str) else value


def configure(session: Session, arguments: argparse.Namespace) -> int:
    requested = check_values(session.manifest, _given_values(arguments))  # refused here, before any request
    client = session.client()
    search = client.search()
    configuration = session.integration_on_tenant(search)
    differences = differences_from_manifest(configuration, session.manifest)
    if differences:
        raise TenantError(
            "the tenant holds another version of the integration: " + "; ".join(differences),
            "upload this checkout's version first: python3 -m Tests tenant upload",
        )
    existing = find_instance(search, arguments.name)
    if existing is not None and existing.get("brand") != configuration.get("name"):
        raise TenantError(f"{arguments.name} is an instance of {existing.get('brand')}", "choose another --name")
    values = {**(current_values(existing) if existing else {}), **requested}
    problems = missing_required(session.manifest, values)
    if problems:
        raise ConfigurationError(problems)
    body = instance_body(configuration, arguments.name, _with_secrets(session, values), existing)
    saved = client.save_instance(body)
    session.say(
        f"{'updated' if existing else 'created'} instance {arguments.name} of {configuration.get('display')} "
        f"(id {saved.get('id')}, version {saved.get('version')})"
    )
    for parameter in session.manifest.settable():
        if parameter.name in values:
            session.say(f"  {parameter.name} = {_shown(values[parameter.name])}")
    return 0


def test(session: Session, arguments: argparse.Namespace) -> int:
    client = session.client()
    instance = session.instance_on_tenant(client.search(), arguments.name)
    session.say(f"running test-module of {arguments.name} on the tenant ...")
    verdict = client.test_instance(instance)
    if verdict.success:
        session.say(f"test {arguments.name}: success")
        return 0
    session.say(f"test {arguments.name}: failed")
    stage = STAGE.match(verdict.message)
    if stage:
        session.say(f"  failing stage: {stage.group('stage')}")
        session.say(f"  message: {stage.group('detail')}")
    else:
        session.say(f"  message: {verdict.message or '(the tenant gave no reason)'}")
    return 1


def _command_line(name: str, command: str) -> tuple[str, str]:
    """(the command's name, the line to run on the instance `name`): `!` added, and `using=` unless given."""
    line = command.strip() if command.strip().startswith("!") else "!" + command.strip()
    try:
        words = shlex.split(line[1:])
    except ValueError as error:
        raise TenantError(f"cannot read the command {command!r}: {error}", "the quotes in the command") from None
    if not words:
        raise TenantError("no command given", "for example: '!liveperson-get-events limit=5'")
    if not any(word.startswith("using=") for word in words[1:]):
        line += f' using="{name}"' if " " in name else f" using={name}"
    return words[0], line


def run(session: Session, arguments: argparse.Namespace) -> int:
    command, line = _command_line(arguments.name, arguments.command)
    client = session.client()
    search = client.search()
    instance = session.instance_on_tenant(search, arguments.name)
    commands = [item["name"] for item in session.integration_on_tenant(search).get("integrationScript", {}).get("commands") or []]
    if command not in commands:
        raise TenantError(f"{command} is not a command of {instance.get('brand')}", f"its commands: {', '.join(commands)}")
    if instance.get("enabled") != "true":
        raise TenantError(f"the instance {arguments.name} is disabled", "enable it in Settings, or configure it again")
    investigation = arguments.investigation_id or client.playground_id()
    session.say(f"{line}   (in investigation {investigation})")
    entries = client.execute(investigation, line)
    for entry in entries:
        session.say(json.dumps(entry.__dict__, indent=2, default=str) if arguments.raw else entry_as_text(entry))
        session.say()
    if not entries:
        session.say("(the command returned no entries)")
    return 1 if any(entry.is_error for entry in entries) else 0


def status(session: Session, arguments: argparse.Namespace) -> int:
    search = session.client().search()
    instance = session.instance_on_tenant(search, arguments.name)
    interval = next((item.get("value") for item in instance.get("data") or [] if item.get("name") == "eventFetchInterval"), None)
    session.say(f"instance {arguments.name} of {instance.get('brand')} (id {instance.get('id')})")
    session.say(f"  enabled: {'yes' if instance.get('enabled') == 'true' else 'no'}")
    every = f" (every {interval} minute{'s' if str(interval) != '1' else ''})" if interval else ""
    session.say(f"  fetching events: {'on' + every if fetching(instance) else 'off'}")
    health = find_health(search, instance)
    if health is None:
        session.say("  health: the tenant reports none for this instance (no fetch yet, or this server does not report it)")
        return 0
    session.say(f"  last pull: {health.get('lastPullTime') or 'never'}, events pulled: {health.get('eventsPulled', 0)}")
    session.say(f"  last error: {health.get('lastError') or 'none'}")
    return 1 if health.get("lastError") else 0


def demo(session: Session, arguments: argparse.Namespace) -> int:
    from Tests.tenant.demo import run_demo  # noqa: PLC0415 - starts the fakes: only for this command

    return run_demo(session)


# ------------------------------------------------------------------ command line


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python3 -m Tests tenant", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = root.add_subparsers(dest="mode", required=True)
    upload_parser = commands.add_parser("upload", help="build the pack with demisto-sdk and upload it")
    upload_parser.add_argument("--zip", help="upload this zip instead of building one")
    configure_parser = commands.add_parser("configure", help="create or update an instance")
    configure_parser.add_argument("--name", required=True, help="the instance's name")
    configure_parser.add_argument("--params", help="a JSON file of parameter values (no secrets)")
    configure_parser.add_argument("values", nargs="*", help="parameter=value (the manifest's names; client_id=...)")
    test_parser = commands.add_parser("test", help="run the instance's test-module on the tenant")
    test_parser.add_argument("name")
    run_parser = commands.add_parser("run", help="run a command of the instance in the playground")
    run_parser.add_argument("name")
    run_parser.add_argument("command", help="for example '!liveperson-get-events limit=5'")
    run_parser.add_argument("--investigation-id", help="where to run it (default: your playground)")
    run_parser.add_argument("--raw", action="store_true", help="print the entries as JSON")
    status_parser = commands.add_parser("status", help="whether the instance fetches, and its health")
    status_parser.add_argument("name")
    commands.add_parser("demo", help="upload, configure, test, run and status against a fake tenant, offline")
    return root


COMMANDS: dict[str, Callable[[Session, argparse.Namespace], int]] = {
    "upload": upload,
    "configure": configure,
    "test": test,
    "run": run,
    "status": status,
    "demo": demo,
}


def _terminal_prompt(text: str) -> str:
    return getpass.getpass(text)


def main(
    argv: list[str],
    environment: Mapping[str, str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    prompt: Callable[[str], str] | None = None,
) -> int:
    arguments = parser().parse_args(argv)
    interactive = prompt or (_terminal_prompt if environment is None and sys.stdin.isatty() else None)
    session = Session(dict(os.environ) if environment is None else environment, out or sys.stdout, err or sys.stderr, interactive)
    try:
        return COMMANDS[arguments.mode](session, arguments)
    except (TenantError, ConfigurationError) as error:
        print(f"error: {session.scrub(str(error))}", file=session.err, flush=True)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=session.err)
        return 130
    except Exception as error:  # the tool's own bug: still no traceback, and no secret in the message
        message = session.scrub(f"{type(error).__name__}: {error}")
        print(f"error: unexpected failure: {message}\ncheck: this is a fault of the tool itself", file=session.err)
        return 1
