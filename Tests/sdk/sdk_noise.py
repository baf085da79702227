"""Quiets demisto-sdk's known harmless messages in CI's log, so that a real failure stands out.

    demisto-sdk ... 2>&1 | python3 Tests/sdk/sdk_noise.py [--seen FILE]

Reads the SDK's output line by line and passes every line through unchanged, except the messages listed in NOISE:
each kind is replaced, the first time it appears, by one line that says why it is harmless, and dropped after that.
With --seen, the kinds already explained are kept in FILE, so that a lint run of several SDK commands explains each
kind once.
A line matches only as a whole (colours aside), so an error that merely resembles one of them still shows. The
filter never changes the exit status: .ci/lint runs it under `set -o pipefail`, so the SDK's own status decides.

generate-docs lists "possible errors" as a header and bullets: the block is held until it ends, and the header
shows only if some bullet is not a known one.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;]*m")
PREFIX = "note (harmless): "

# Why each kind of message is harmless, in one line.
NO_GITHUB_REMOTE = "demisto-sdk looks for the content repository's GitHub remote; there is none here, so it uses its defaults."
SDK_CONFIG = "demisto-sdk read .demisto-sdk-conf, which points validate at Config/validation_config.toml."
NO_MARKDOWNLINT = "format runs markdownlint in a Node server it starts with Docker; there is none, so Markdown stays as written."
NO_TESTDATA_FORMATTER = "format has no formatter for modeling-rule test data: it reports that file as Failed and leaves it be."
FORMAT_WITHOUT_VALIDATION = "format -nv does not validate each file it formats; the validate step does."
BC117 = "BC117 is a warning: in the content repository a product manager approves a new pack's supportedModules."
PR_NOTES = "validate's closing notes are about pull requests in the content repository; any errors are listed above."
OFFLINE_IMAGE_INFO = "xsoar-lint looks up the Docker image's Python version online; offline it reads it from the image's tag."
ARTIFACTS_NOT_IN_GIT = "generate-docs adds what it writes to git; artifacts/ is left out of git on purpose."
NO_LANDING_PAGE = "prepare-content reads the marketplace's landing-page sections, which only the content repository has."
HAND_WRITTEN_EXAMPLE = (
    "generate-docs would run command examples on a live Cortex server; the README's example is written by hand."
)
TESTDATA = "Packs/LivePerson/ModelingRules/LivePersonAuditTrail/LivePersonAuditTrail_testdata.json"

# (a whole line as the SDK prints it, colours aside; why it is harmless)
NOISE: list[tuple[str, str]] = [
    (r"Could not get repository properties: .*, using provided configs, or default\.", NO_GITHUB_REMOTE),
    (r"Could not find the repository name on github - defaulting to demisto/content", NO_GITHUB_REMOTE),
    (r"If you are using a private gitlab repo, configure one of the following environment variables: .*", NO_GITHUB_REMOTE),
    (r"\.demisto-sdk-conf sections=\{'validate': \{'config_path': 'Config/validation_config\.toml'\}\}", SDK_CONFIG),
    (
        r"DockerPing - Failed to init docker client\. This might indicate that your docker daemon is not running\.",
        NO_MARKDOWNLINT,
    ),
    (r"Skipping markdownlint as node server is not up", NO_MARKDOWNLINT),
    (r"No updater_class was found for file type modelingruletestdata", NO_TESTDATA_FORMATTER),
    (rf"Format Status on file: {re.escape(TESTDATA)} - Failed", NO_TESTDATA_FORMATTER),
    (r"Validate Status on file: \S+ - Skipped", FORMAT_WITHOUT_VALIDATION),
    (
        r"\S+: \[BC117\] - The following support modules 'xsiam' have been added to the .*\. "
        r"Adding supported modules requires a PM approval\.",
        BC117,
    ),
    (r"The following errors were reported as warnings: BC117\.", BC117),
    (r"Validate summary", PR_NOTES),
    (r"The following errors were thrown as a part of this pr: \.", PR_NOTES),
    (r"If the AG100 validation in the pre-commit GitHub Action fails, the pull request cannot be force-merged\.", PR_NOTES),
    (r"Please note that the PR can be force merged from the validation perspective\.", PR_NOTES),
    (r"#{20,}", PR_NOTES),
    (r"Could not read docker_images_metadata\.json from demisto/dockerfiles-info repository, error: .*", OFFLINE_IMAGE_INFO),
    (r"Could not add the following file to git: \S+/artifacts/lint/docs/README\.md", ARTIFACTS_NOT_IN_GIT),
    (
        r"Couldn't find the landing_page file in path Tests/Marketplace/landingPage_sections\.json\. "
        r"Skipping collecting tags by landing page sections\.",
        NO_LANDING_PAGE,
    ),
    (r"Tests/Marketplace/landingPage_sections\.json", NO_LANDING_PAGE),
]
# generate-docs' "possible errors" that are expected here: the README's command example is written by hand.
POSSIBLE_ERRORS_HEADER = re.compile(r"Found \d+ possible errors?:")
EXPECTED_POSSIBLE_ERRORS = (
    (r"- Command examples were not supplied\.", HAND_WRITTEN_EXAMPLE),
    (r"- Did not get any example for [\w-]+\. Please add it manually\.", HAND_WRITTEN_EXAMPLE),
)


def _plain(line: str) -> str:
    return ANSI.sub("", line).strip()


def _explanation(line: str, table: Iterable[tuple[str, str]]) -> str | None:
    text = _plain(line)
    return next((why for pattern, why in table if re.fullmatch(pattern, text)), None)


def quiet(lines: Iterable[str], explained: set[str] | None = None) -> Iterator[str]:
    """The SDK's output with its known harmless messages replaced by one explanation per kind (lines without '\\n').

    `explained` holds the explanations already given (and receives the new ones).
    """
    explained = set() if explained is None else explained

    def explain(why: str) -> Iterator[str]:
        if why not in explained:
            explained.add(why)
            yield PREFIX + why

    held: list[str] = []  # a "possible errors" block: its header, then its bullets

    def release() -> Iterator[str]:
        whys = [_explanation(line, EXPECTED_POSSIBLE_ERRORS) for line in held[1:]]
        if held and None in whys:
            yield held[0]
            yield from (line for line, why in zip(held[1:], whys, strict=True) if why is None)
        for why in whys:
            if why is not None:
                yield from explain(why)
        held.clear()

    for line in lines:
        if held and _plain(line).startswith("- "):
            held.append(line)
            continue
        yield from release()
        if POSSIBLE_ERRORS_HEADER.fullmatch(_plain(line)):
            held.append(line)
        elif (why := _explanation(line, NOISE)) is not None:
            yield from explain(why)
        else:
            yield line
    yield from release()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seen", type=Path, help="a file of the explanations already given in this run")
    seen_file = parser.parse_args(argv).seen
    explained = set(seen_file.read_text().splitlines()) if seen_file and seen_file.exists() else set()
    for line in quiet((line.rstrip("\n") for line in sys.stdin), explained):
        print(line, flush=True)
    if seen_file:
        seen_file.write_text("".join(f"{why}\n" for why in sorted(explained)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
