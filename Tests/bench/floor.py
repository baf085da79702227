"""A floor of the benchmark: one process that replays one fetch-events run's API calls with bare requests.

    python -m Tests.bench.floor PLAN.json

The plan (written by the benchmark) holds the calls the run made, as the server logged them: method, URL, headers
and body, replayed byte for byte on one keep-alive session. Floor (a) decodes each answer's JSON, nothing more.
Floor (b) also hands each decoded Audit Trail page, as it is, to the platform library's `send_events_to_xsiam`
(the double, which serialises and chunks as the real library does) with the collector's vendor and product.
Nothing of the benchmark or of the collector is imported: the floor costs what a bare client costs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import requests


def replay(plan: dict[str, Any]) -> int:
    """Replays the plan's calls; returns the number of audit records decoded."""
    send = None
    if plan["mode"] == "b":
        sys.path.insert(0, plan["doubles"])
        from CommonServerPython import send_events_to_xsiam  # noqa: PLC0415 - the platform library, as the run imports it

        send = send_events_to_xsiam
    session = requests.Session()
    records = 0
    for call in plan["calls"]:
        response = session.request(
            call["method"], call["url"], data=call["body"].encode("latin-1") or None, headers=call["headers"], timeout=60
        )
        answer = response.json()
        if call["endpoint"] == "audit":
            # A query the server refused (the collector's schema learning asks some on its first run) holds no page.
            page = (answer.get("data") or {}).get("auditData") or []
            records += len(page)
            if send is not None and page:
                send(page, vendor=plan["vendor"], product=plan["product"], should_update_health_module=False)
    return records


def main(argv: list[str]) -> int:
    plan = json.loads(Path(argv[0]).read_text())
    print(json.dumps({"records": replay(plan)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
