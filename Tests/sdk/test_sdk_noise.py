"""The filter that explains demisto-sdk's harmless messages in CI's log, and lets every other line through."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from Tests.sdk.sdk_noise import PREFIX, quiet

FILTER = Path(__file__).with_name("sdk_noise.py")
# What the lint step printed on a clean run, in its own words and colours (abridged).
CLEAN_RUN = [
    "Could not get repository properties: 'GitUrlParsed' object has no attribute 'domain', using provided configs, or default.",
    "Could not get repository properties: Remote named 'origin' didn't exist, using provided configs, or default.",
    "\x1b[33m.demisto-sdk-conf sections={'validate': {'config_path': 'Config/validation_config.toml'}}\x1b[0m",
    "DockerPing - Failed to init docker client. This might indicate that your docker daemon is not running.",
    "\x1b[33mCould not find the repository name on github - defaulting to demisto/content\x1b[0m",
    "\x1b[33mIf you are using a private gitlab repo, configure one of the following environment variables: "
    "`DEMISTO_SDK_GITHUB_TOKEN`,`DEMISTO_SDK_REPO_HOSTNAME`\x1b[0m ",
    "Skipping markdownlint as node server is not up",
    "\x1b[33mNo updater_class was found for file type modelingruletestdata\x1b[0m",
    "\x1b[31mFormat Status on file: Packs/LivePerson/ModelingRules/LivePersonAuditTrail/LivePersonAuditTrail_testdata.json"
    " - Failed\x1b[0m",
    "\x1b[33mValidate Status on file: Packs/LivePerson/README.md - Skipped\x1b[0m",
    "\x1b[33mPacks/LivePerson: [BC117] - The following support modules 'xsiam' have been added to the LivePerson Pack. "
    "Adding supported modules requires a PM approval.\x1b[0m",
    "\x1b[32mAll validations passed.\x1b[0m",
    "\x1b[31mValidate summary",
    "The following errors were reported as warnings: BC117.",
    "The following errors were thrown as a part of this pr: .",
    "If the AG100 validation in the pre-commit GitHub Action fails, the pull request cannot be force-merged.",
    "\x1b[0m",
    "\x1b[32m#############################################################################",
    "Please note that the PR can be force merged from the validation perspective.",
    "Could not read docker_images_metadata.json from demisto/dockerfiles-info repository, error: HTTPSConnectionPool("
    "host='raw.githubusercontent.com', port=443): Max retries exceeded",
    "Your code has been rated at 10.00/10",
    "\x1b[33mCould not add the following file to git: /work/repo/artifacts/lint/docs/README.md\x1b[0m",
    "Found 2 possible errors:",
    "\t- Command examples were not supplied.",
    "\t- Did not get any example for liveperson-get-events. Please add it manually.",
    "Couldn't find the landing_page file in path Tests/Marketplace/landingPage_sections.json. Skipping collecting tags "
    "by landing page sections.",
    "Tests/Marketplace/landingPage_sections.json",
    "Dumped pack LivePerson.",
]


def test_a_clean_run_keeps_its_results_and_one_line_per_kind_of_noise() -> None:
    """
    Given what the SDK prints on a clean lint run
    When it goes through the filter
    Then the results stay, each kind of harmless message becomes one explanation, and nothing else is left
    """
    out = list(quiet(CLEAN_RUN))
    kept = [line for line in out if not line.startswith(PREFIX)]
    assert kept == [
        "\x1b[32mAll validations passed.\x1b[0m",
        "\x1b[0m",
        "Your code has been rated at 10.00/10",
        "Dumped pack LivePerson.",
    ]
    explanations = [line for line in out if line.startswith(PREFIX)]
    assert len(explanations) == len(set(explanations)) == 11


REAL_FAILURES = [
    "\x1b[31mPacks/LivePerson/Integrations/LivePersonAuditTrail/LivePersonAuditTrail.yml: [IN100] - A wrong parameter\x1b[0m",
    "The following errors were thrown as a part of this pr: IN100.",
    "\x1b[31mFormat Status on file: Packs/LivePerson/Integrations/LivePersonAuditTrail/LivePersonAuditTrail.yml - Failed\x1b[0m",
    "Packs/LivePerson: [BC117] - The following support modules 'xsiam, xsoar' have been removed from the pack.",
    "Secrets were found in the following files:",
    "Could not get repository properties and then a traceback",
    "LivePersonAuditTrail.py:12:0: W9013: Initialize of params was found outside of main (init-params-outside-main)",
]


def test_real_failures_pass_through_unchanged_and_in_order() -> None:
    """
    Given error lines, some of which look like the harmless messages
    When they go through the filter between harmless messages
    Then every one of them is printed unchanged, in order
    """
    lines = [CLEAN_RUN[0], *REAL_FAILURES, CLEAN_RUN[6]]
    out = list(quiet(lines))
    assert [line for line in out if not line.startswith(PREFIX)] == REAL_FAILURES


def test_unexpected_possible_errors_of_generate_docs_keep_their_header() -> None:
    """
    Given generate-docs listing an expected and an unexpected possible error, then one with only expected ones
    When they go through the filter
    Then the first header and its unexpected bullet stay, the expected bullets are explained, and the second
    header disappears with its bullets
    """
    lines = [
        "Found 2 possible errors:",
        "\t- Command examples were not supplied.",
        "\t- The description of argument limit is missing.",
        "done",
        "Found 1 possible error:",
        "\t- Command examples were not supplied.",
    ]
    out = list(quiet(lines))
    assert [line for line in out if not line.startswith(PREFIX)] == [
        "Found 2 possible errors:",
        "\t- The description of argument limit is missing.",
        "done",
    ]
    assert sum(line.startswith(PREFIX) for line in out) == 1


def test_the_command_line_filter_keeps_a_failing_status_under_pipefail() -> None:
    """
    Given a command that prints a harmless message and an error, and fails
    When its output is piped through the filter the way .ci/lint does it
    Then the error shows, the harmless message is explained, and the pipeline still fails
    """
    script = (
        "set -o pipefail; "
        "{ echo 'Skipping markdownlint as node server is not up'; echo 'Secrets were found'; exit 3; } "
        f"| {sys.executable} {FILTER}"
    )
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 3
    assert done.stdout.splitlines() == [
        PREFIX + quiet_explanation("Skipping markdownlint as node server is not up"),
        "Secrets were found",
    ]


def quiet_explanation(line: str) -> str:
    return next(iter(quiet([line])))[len(PREFIX) :]


def test_explanations_given_by_an_earlier_command_of_the_run_are_not_repeated(tmp_path: Path) -> None:
    """
    Given two SDK commands of one lint run that both print the same harmless message
    When each output goes through the filter with the same --seen file
    Then the message is explained after the first command only
    """
    seen = tmp_path / "explained"
    outputs = [
        subprocess.run(
            [sys.executable, str(FILTER), "--seen", str(seen)],
            input=CLEAN_RUN[0] + "\n",
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for _ in range(2)
    ]
    assert outputs[0].startswith(PREFIX)
    assert outputs[1] == ""
