"""Puts the platform doubles (demistomock, CommonServerPython) and the integration on the import path,
the way the platform's runtime provides them to an integration."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
for path in (ROOT / "Tests" / "doubles", ROOT / "Packs" / "LivePerson" / "Integrations" / "LivePersonAuditTrail"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
