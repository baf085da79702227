"""The docs say what the manifest declares: every setting, command, argument and output, and no placeholders."""

import shlex
from pathlib import Path

import pytest
import yaml

INTEGRATION = Path(__file__).resolve().parent.parent / "Packs" / "LivePerson" / "Integrations" / "LivePersonAuditTrail"
MANIFEST = yaml.safe_load((INTEGRATION / "LivePersonAuditTrail.yml").read_text())
README = (INTEGRATION / "README.md").read_text()
DESCRIPTION = (INTEGRATION / "LivePersonAuditTrail_description.md").read_text()


def setting_names() -> list[str]:
    names = []
    for parameter in MANIFEST["configuration"]:
        names.append(parameter["display"])
        if parameter.get("displaypassword"):
            names.append(parameter["displaypassword"])
    return names


def manifest_names() -> list[str]:
    names = setting_names()
    for command in MANIFEST["script"]["commands"]:
        names.append(command["name"])
        names += [f"| {argument['name']} |" for argument in command.get("arguments", [])]
        names += [f"| {output['contextPath']} |" for output in command.get("outputs", [])]
    return names


@pytest.mark.parametrize("name", manifest_names())
def test_integration_readme_lists_every_manifest_entry(name: str) -> None:
    """
    Given an instance setting, command, argument or context output of the manifest
    When the integration README is read
    Then it appears there
    """
    assert name in README


def test_docs_have_no_placeholders_and_the_right_collector_sentence() -> None:
    """
    Given the integration README, the description and the manifest
    When they are read
    Then no placeholder text is left, and the get-events command carries the reviewers' sentence
    """
    for text in (README, DESCRIPTION):
        for placeholder in ("TODO", "TBD", "<Add", "FILL", "lorem"):
            assert placeholder not in text
    sentence = (
        "Use this command for development and debugging only, as it may produce duplicate events, exceed API rate "
        "limits, or disrupt the fetch mechanism."
    )
    assert MANIFEST["script"]["commands"][0]["description"].endswith(sentence)
    assert DESCRIPTION.startswith("## LivePerson Audit Trail Help")


def test_command_examples_are_commands_of_the_manifest() -> None:
    """
    Given the command_examples file
    When each line is read
    Then it runs a command the manifest declares, with arguments it declares
    """
    commands = {command["name"]: command for command in MANIFEST["script"]["commands"]}
    for line in (INTEGRATION / "command_examples").read_text().splitlines():
        name, *words = shlex.split(line.lstrip("!"))
        assert name in commands
        declared = {argument["name"] for argument in commands[name]["arguments"]}
        assert {word.split("=", 1)[0] for word in words} <= declared


@pytest.mark.parametrize("setting", setting_names())
def test_description_explains_every_setting(setting: str) -> None:
    """
    Given a setting of the manifest (its display name, or the secret's)
    When the description shown beside the instance settings is read
    Then it says what that setting does
    """
    assert f"**{setting}**" in DESCRIPTION


def readme_parameter_rows() -> dict[str, str]:
    """The integration README's parameter table: each row's display name and description."""
    lines = README[README.index("| **Parameter** | **Description** | **Required** |") :].splitlines()[2:]
    rows = {}
    for line in lines:
        if not line.startswith("|"):
            break
        display, description, _required = (cell.strip() for cell in line.strip().strip("|").split(" | "))
        rows[display] = description
    return rows


@pytest.mark.parametrize("parameter", MANIFEST["configuration"], ids=lambda parameter: parameter["name"])
def test_every_setting_has_a_description_in_the_manifest_and_the_readme(parameter: dict) -> None:
    """
    Given a parameter of the manifest
    When its additional information and its row in the integration README's parameter table are read
    Then both say something (only the password halves that generate-docs adds for credentials stay empty there,
    covered by the description page)
    """
    assert str(parameter.get("additionalinfo") or "").strip()
    assert readme_parameter_rows()[parameter["display"]]


def test_the_users_setting_says_what_it_takes_or_that_the_docs_do_not() -> None:
    """
    Given the Users setting, whose values LivePerson's Audit Trail documentation calls only "List of users"
    When its description (manifest and description page) is read
    Then it says plainly that the documentation does not say whether login names or user IDs are meant, and what
    the collector passes
    """
    users = next(parameter for parameter in MANIFEST["configuration"] if parameter["name"] == "users")
    for text in (" ".join(users["additionalinfo"].split()), " ".join(DESCRIPTION.split())):
        assert "does not say" in text
        assert "login names" in text and "user IDs" in text
        assert "each item" in text and "as typed" in text
