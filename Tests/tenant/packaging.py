"""The pack's installable zip: demisto-sdk's own build, or (offline, without the SDK) a plain one for the fake tenant.

`build_with_sdk` runs `demisto-sdk prepare-content -mp marketplacev2`, as `bash .ci/lint package` does, from the SDK
in .venv-sdk (installed by `bash .ci/lint config`). `build_plain` is what the demo and the tests fall back to when
that is not installed: the pack's metadata, README and the integration unified the platform's way (the module's
source without the two platform imports, the description and the image inlined). It holds no modeling rule and no
generated metadata: it is enough for the fake tenant, not a substitute for the SDK's build on a real one.
"""

from __future__ import annotations

import base64
import os
import subprocess
import tempfile
import zipfile
from pathlib import Path

import yaml

from Tests.tenant.client import TenantError

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "Packs" / "LivePerson"
SDK = ROOT / ".venv-sdk" / "bin" / "demisto-sdk"
ZIP_NAME = "LivePerson.zip"
PLATFORM_IMPORTS = ("import demistomock as demisto", "from CommonServerPython import *")


def sdk_installed() -> bool:
    return SDK.exists()


def build_with_sdk(out_dir: Path) -> Path:
    """The zip demisto-sdk builds for Cortex XSIAM (marketplacev2), in out_dir."""
    if not sdk_installed():
        raise TenantError(
            "demisto-sdk is not installed, and it builds the pack's zip",
            "run `bash .ci/lint config` once (it installs the SDK into .venv-sdk), or pass --zip PATH",
        )
    command = [str(SDK), "prepare-content", "-i", str(PACK.relative_to(ROOT)), "-mp", "marketplacev2", "-o", str(out_dir)]
    # The SDK leaves throwaway files in its temporary directory: it gets one of its own, removed afterwards.
    with tempfile.TemporaryDirectory(prefix="liveperson-sdk-tmp-") as sdk_tmp:
        environment = {**os.environ, "DEMISTO_SDK_IGNORE_CONTENT_WARNING": "1", "TMPDIR": sdk_tmp}
        finished = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, check=False)
    built = out_dir / ZIP_NAME
    if finished.returncode != 0 or not built.exists():
        tail = "\n".join((finished.stdout + finished.stderr).strip().splitlines()[-8:])
        raise TenantError(f"demisto-sdk prepare-content failed:\n{tail}", "run `bash .ci/lint package` to see the whole output")
    return built


# PyYAML's libyaml bindings where its wheel has them (ten times faster than the pure-Python ones, same safe subset):
# the tenant tests build and read the pack once each.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SAFE_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def unified_integration(folder: Path) -> dict:
    """The integration's manifest with its script, description and image inlined, as the platform stores it."""
    name = folder.name
    document = yaml.load((folder / f"{name}.yml").read_text(), Loader=SAFE_LOADER)
    source = (folder / f"{name}.py").read_text().splitlines()
    # The platform provides these two; like the SDK, leave an empty line in their place.
    document["script"]["script"] = "\n".join("" if line in PLATFORM_IMPORTS else line for line in source) + "\n"
    description = folder / f"{name}_description.md"
    if description.exists():
        document["detaileddescription"] = description.read_text()
    image = folder / f"{name}_image.png"
    if image.exists():
        document["image"] = "data:image/png;base64," + base64.b64encode(image.read_bytes()).decode()
    return document


def build_plain(out_dir: Path, pack: Path = PACK) -> Path:
    """A zip laid out as the SDK lays out its build, holding the pack's metadata, README and unified integrations."""
    built = out_dir / ZIP_NAME
    with zipfile.ZipFile(built, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(pack / "pack_metadata.json", "pack_metadata.json")
        if (pack / "README.md").exists():
            archive.write(pack / "README.md", "README.md")
        for folder in sorted(path for path in (pack / "Integrations").iterdir() if path.is_dir()):
            unified = yaml.dump(unified_integration(folder), Dumper=SAFE_DUMPER, sort_keys=False, allow_unicode=True)
            archive.writestr(f"Integrations/integration-{folder.name}.yml", unified)
    return built
