"""Tests of what demisto-sdk produced in `.ci/lint`: the installable zip and the generated integration README.

Not collected by `python3 -m Tests test` (the file name does not match test_*.py, and the SDK is not in .venv):
`bash .ci/lint outputs` builds them and runs it with their paths in LP_PACK_ZIP and LP_GENERATED_README.
"""

from __future__ import annotations

import base64
import json
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "Packs" / "LivePerson"
INTEGRATION = PACK / "Integrations" / "LivePersonAuditTrail"
RULE = PACK / "ModelingRules" / "LivePersonAuditTrail"
# The one line of generate-docs' output that is a placeholder for the author to replace.
PLACEHOLDER = re.compile(r"^This integration was integrated and tested with version xx of ")
# What the module carries besides its own source once unified: only these two imports are left out.
PLATFORM_IMPORTS = {"import demistomock as demisto", "from CommonServerPython import *"}


def output_path(variable: str) -> Path:
    value = os.environ.get(variable)
    if not value:
        pytest.fail(f"{variable} is not set: run these tests through `bash .ci/lint`, which builds what they check.")
    return Path(value)


@pytest.fixture(scope="module")
def package() -> zipfile.ZipFile:
    return zipfile.ZipFile(output_path("LP_PACK_ZIP"))


@pytest.fixture(scope="module")
def unified(package: zipfile.ZipFile) -> dict[str, Any]:
    return yaml.safe_load(package.read("Integrations/integration-LivePersonAuditTrail.yml"))


def test_zip_holds_the_integration_the_modeling_rule_and_the_metadata(package: zipfile.ZipFile) -> None:
    """
    Given the zip that `prepare-content -mp marketplacev2` built
    When its files are listed
    Then it holds the unified integration, the unified modeling rule, the pack's metadata and README, and no tests
    """
    names = set(package.namelist())
    assert {
        "Integrations/integration-LivePersonAuditTrail.yml",
        "ModelingRules/external-modelingrule-LivePersonAuditTrail.yml",
        "pack_metadata.json",
        "metadata.json",
        "README.md",
    } <= names
    assert not [name for name in names if name.endswith(("_test.py", "test_data/"))]
    metadata = json.loads(package.read("metadata.json"))
    assert metadata["name"] == "LivePerson"
    assert "marketplacev2" in metadata["marketplaces"]


def test_unified_integration_is_an_event_collector(unified: dict[str, Any]) -> None:
    """
    Given the unified integration in the zip
    When its script section is read
    Then it fetches events, runs on the manifest's Docker image and offers the get-events command
    """
    manifest = yaml.safe_load((INTEGRATION / "LivePersonAuditTrail.yml").read_text())
    script = unified["script"]
    assert script["isfetchevents"] is True
    assert script["dockerimage"] == manifest["script"]["dockerimage"]
    assert [command["name"] for command in script["commands"]] == ["liveperson-get-events"]
    assert unified["commonfields"]["id"] == "LivePersonAuditTrail"
    assert "isFetchEvents" in {parameter["name"] for parameter in unified["configuration"]}


def test_unified_integration_carries_the_image_and_the_description(unified: dict[str, Any]) -> None:
    """
    Given the unified integration in the zip
    When its image and detailed description are read
    Then the image is the pack's PNG, and the description holds the pack's description text
    """
    prefix = "data:image/png;base64,"
    assert unified["image"].startswith(prefix)
    image = (INTEGRATION / "LivePersonAuditTrail_image.png").read_bytes()
    assert base64.b64decode(unified["image"].removeprefix(prefix)) == image
    description = (INTEGRATION / "LivePersonAuditTrail_description.md").read_text()
    assert description.strip() in unified["detaileddescription"]


def test_unified_integration_carries_the_whole_module(unified: dict[str, Any]) -> None:
    """
    Given the unified integration in the zip
    When its code is compared with the module
    Then every line of the module is there, in order, except the two platform imports the platform provides
    """
    code = unified["script"]["script"].splitlines()
    module = (INTEGRATION / "LivePersonAuditTrail.py").read_text().splitlines()
    start = code.index(module[0])
    for offset, line in enumerate(module):
        assert code[start + offset] == ("" if line in PLATFORM_IMPORTS else line), f"module line {offset + 1}"


def test_unified_modeling_rule_carries_the_rule_and_the_schema(package: zipfile.ZipFile) -> None:
    """
    Given the unified modeling rule in the zip
    When its rules and schema are read
    Then they are the pack's .xif and schema
    """
    rule = yaml.safe_load(package.read("ModelingRules/external-modelingrule-LivePersonAuditTrail.yml"))
    assert rule["id"] == "LivePersonAuditTrail_ModelingRule"
    assert rule["rules"].strip() == (RULE / "LivePersonAuditTrail.xif").read_text().strip()
    assert json.loads(rule["schema"]) == json.loads((RULE / "LivePersonAuditTrail_schema.json").read_text())


def test_zip_carries_the_correlation_rules_and_the_dashboard_unchanged(package: zipfile.ZipFile) -> None:
    """
    Given the zip and the pack's correlation rules and dashboard
    When the zip's copies are read
    Then every rule is there with the same settings and query, and the dashboard with its widgets and preview image
    """
    for path in sorted((PACK / "CorrelationRules").glob("*.yml")):
        packed = yaml.safe_load(package.read(f"CorrelationRules/external-correlationrule-{path.name}"))
        source = yaml.safe_load(path.read_text())
        assert {key: packed.get(key) for key in source} == source
    dashboard = PACK / "XSIAMDashboards" / "LivePerson_Audit_Trail.json"
    packed_board = json.loads(package.read(f"XSIAMDashboards/external-xsiamdashboard-{dashboard.name}"))
    source_board = json.loads(dashboard.read_text())
    assert packed_board["dashboards_data"] == source_board["dashboards_data"]
    assert packed_board["widgets_data"] == source_board["widgets_data"]
    image = dashboard.with_name(f"{dashboard.stem}_image.png")
    assert package.read(f"XSIAMDashboards/{image.name}") == image.read_bytes()


def readme_lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def test_integration_readme_is_the_generated_one_plus_sections() -> None:
    """
    Given the README that `generate-docs -f` writes from the manifest, and the committed integration README
    When their lines are compared
    Then every generated line is in the committed README, in order (so it is in sync with the manifest), the
    placeholder line is replaced, and the hand-written sections are there
    """
    generated = readme_lines(output_path("LP_GENERATED_README").read_text())
    committed = readme_lines((INTEGRATION / "README.md").read_text())
    position = 0
    for line in generated:
        if PLACEHOLDER.match(line):
            continue
        try:
            position = committed.index(line, position) + 1
        except ValueError:
            pytest.fail(f"generated line missing or out of order: {line!r}")
    assert not any(PLACEHOLDER.match(line) for line in committed)
    text = "\n".join(committed)
    for heading in ("## Prerequisites", "## Troubleshooting", "#### Command example", "#### Human Readable Output"):
        assert heading in text
    troubleshooting = text[text.index("## Troubleshooting") :]
    for topic in ("403", "429", "Authorization server (Sentinel) host", "Could not reach", "Time zones"):
        assert topic in troubleshooting, topic


def test_the_fake_tenant_reads_the_same_integration_from_this_zip_and_the_plain_build(tmp_path: Path) -> None:
    """
    Given this zip, and the plain build the offline tenant demo and its tests upload when the SDK is not installed
    When the fake tenant reads both
    Then it finds the same parameters, commands and fetch flag, and the module's code in both: for what the tenant
    tool relies on, the plain build stands in for the SDK's
    """
    from Tests.tenant import fake_tenant, packaging  # noqa: PLC0415 - the tenant tool is only needed here

    _, [from_sdk] = fake_tenant.read_pack(output_path("LP_PACK_ZIP").read_bytes())
    _, [plain] = fake_tenant.read_pack(packaging.build_plain(tmp_path).read_bytes())
    sdk_configuration = fake_tenant.module_configuration(from_sdk, "LivePerson")
    plain_configuration = fake_tenant.module_configuration(plain, "LivePerson")
    for key in ("id", "name", "category", "configuration"):
        assert sdk_configuration[key] == plain_configuration[key], key
    sdk_script, plain_script = sdk_configuration["integrationScript"], plain_configuration["integrationScript"]
    for key in ("type", "subtype", "dockerImage", "isFetchEvents"):
        assert sdk_script[key] == plain_script[key], key
    assert [command["name"] for command in sdk_script["commands"]] == [command["name"] for command in plain_script["commands"]]
    code = from_sdk["script"]["script"].splitlines()
    module = plain["script"]["script"].splitlines()
    start = code.index(module[0])
    assert code[start : start + len(module)] == module
