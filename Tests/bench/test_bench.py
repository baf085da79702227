"""The benchmark at a small size, as CI runs it: every figure is produced and nothing is lost. No timing is judged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from Tests.bench.bench import ROOT, BenchError, ProcessRun, backlog, expected_line
from Tests.bench.server import BenchLivePerson

pytestmark = pytest.mark.bench
RECORDS, MAX_FETCH, DAY_RUNS = 3000, 2000, 20


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str, list[Path]]:
    """One small benchmark run in its own process, the way CI (and a user) starts it, with a temporary folder of its
    own: what is left in it afterwards is what the benchmark left behind."""
    figures = tmp_path_factory.mktemp("bench") / "bench.json"
    scratch = tmp_path_factory.mktemp("bench-tmp")
    command = [sys.executable, "-m", "Tests", "bench", "--records", str(RECORDS), "--max-fetch", str(MAX_FETCH)]
    command += ["--rounds", "2", "--day-runs", str(DAY_RUNS), "--profile", "5", "--json", str(figures)]
    environment = {**os.environ, "TMPDIR": str(scratch)}
    finished = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600, check=False)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    return json.loads(figures.read_text()), finished.stdout, list(scratch.iterdir())


def test_the_drain_delivers_every_record_as_served(smoke: tuple[dict[str, Any], str, list[Path]]) -> None:
    """
    Given a small backlog drained by fetch-events in fresh processes, then a simulated day of one-minute runs
    When the benchmark checks what reached the platform
    Then every record was delivered once, byte for byte the event expected of it, after the drain and after the day
    """
    result, _, _ = smoke
    assert result["delivered"] == {"events": RECORDS, "lost": 0, "duplicated": 0, "differing": 0}
    after_day = result["delivered_after_day"]
    assert after_day["events"] > RECORDS
    assert (after_day["lost"], after_day["duplicated"], after_day["differing"]) == (0, 0, 0)


def test_every_figure_is_produced(smoke: tuple[dict[str, Any], str, list[Path]]) -> None:
    """
    Given the small benchmark run
    When its JSON file is read
    Then it has the drain ratios of both floors, the calls, the CPU per record and its pieces, the memory, the last
    run's size and a profile; and the drain took one process per run on every side
    """
    result, _, _ = smoke
    drain, calls, cpu, memory = result["drain"], result["calls"], result["cpu_us_per_record"], result["memory"]
    assert result["process_starts_per_side"] == -(-RECORDS // MAX_FETCH) + 1  # two runs of records, one that finds none
    assert len(drain["pipeline_over_floor_b_per_round"]) == 2
    ratios = ("pipeline_over_floor_b", "pipeline_over_floor_a", "floor_b_over_floor_a", "cpu_pipeline_over_floor_b")
    assert min(drain[name] for name in ratios) > 0
    assert 0 < drain["fake_cpu_share"]["pipeline"] < 1
    assert calls["drain"]["audit"] >= calls["pages_of_records"] == -(-RECORDS // 500)
    assert calls["per_record"] == sum(calls["drain"].values()) / RECORDS
    assert calls["steady"]["runs"] == DAY_RUNS
    assert calls["steady"]["audit_per_run"] >= 1
    assert cpu["pipeline"] > 0 and cpu["floor_b"] > 0
    assert set(cpu["pieces"]) == {
        "record JSON (the send's own cost)",
        "entries: JSON, fingerprint, time, event line",
        "changeDate parsing alone",
        "cursor",
        "batching",
    }
    assert all(value is not None and value > 0 for value in cpu["pieces"].values())  # None: a piece failed to run
    assert memory["records"] == MAX_FETCH
    assert memory["records_json_bytes"] > MAX_FETCH * 100
    assert memory["peak_rss_bytes"] > memory["records_json_bytes"]
    assert 0 < result["last_run_bytes"] < 4096
    assert len(result["profile"]) == 5


def test_the_table_is_printed_and_nothing_is_left_behind(smoke: tuple[dict[str, Any], str, list[Path]]) -> None:
    """
    Given the small benchmark run
    When its output and the temporary folder are looked at
    Then the table with its command was printed and saved with the figures, and no scratch or TLS folder remains
    """
    result, output, leftovers = smoke
    assert result["table"] in output
    assert f"python3 -m Tests bench --records {RECORDS}" in result["table"]
    assert "| drain time, pipeline / floor (b) |" in result["table"]
    assert leftovers == []


def test_the_server_answers_a_page_as_the_records_were_served() -> None:
    """
    Given the benchmark's server with a backlog and a token
    When a page is asked from the middle of a day, and a query it does not serve
    Then the page is the records from that day's offset on, and the other query gets a GraphQL error
    """
    server = BenchLivePerson()
    records = backlog(1200, datetime.now(UTC).replace(microsecond=0) - timedelta(days=1), seed=1)
    server.add_records(records)
    _, token = server.respond("POST", "/sentinel/api/v2/account/12345678/app/token", {}, token_form(server))
    bearer = {"Authorization": f"Bearer {json.loads(token)['access_token']}"}
    day = server.records[700]["changeDate"][:10]
    first_of_day = next(index for index, record in enumerate(server.records) if record["changeDate"].startswith(day))
    query = {
        "query": f'{{auditData(fromDate: "{day}", first: 5, offset: 3, orderBy: ["changeTimestamp"], '
        'orderDirection: ["ASC"], timezone: "UTC", lpa: true) {accountId objectType objectName element oldValue newValue '
        "actionType originator originatorLoginName originatorUserId originatorUserAgent originatorAuthType "
        "originatorIsLpa changeDate}}"
    }
    path = "/api/account/12345678/configuration/metadata/audit"
    status, page = server.respond("POST", path, bearer, json.dumps(query).encode())
    assert status == 200
    assert json.loads(page)["data"]["auditData"] == server.records[first_of_day + 3 : first_of_day + 8]
    refused = {"query": query["query"].replace('"ASC"', '"DESC"')}
    status, answer = server.respond("POST", path, bearer, json.dumps(refused).encode())
    assert "does not do this" in json.loads(answer)["errors"][0]["message"]
    status, _ = server.respond("POST", path, {"Authorization": "Bearer forged"}, json.dumps(query).encode())
    assert status == 401


def test_expected_events_and_failed_processes() -> None:
    """
    Given a served record, and a process that died without a summary
    When the expected event is written, and the summary is asked for
    Then the event is the record with its _time in UTC ISO 8601, and the failure is a BenchError
    """
    record = {"objectName": "Sales", "changeDate": "2024-05-01 13:45:10.0"}
    assert json.loads(expected_line(record)) == {**record, "_time": "2024-05-01T13:45:10Z"}
    with pytest.raises(BenchError, match="a process failed"):
        ProcessRun(0.1, 0.1, "", "Traceback ...", 2).summary()


def token_form(server: BenchLivePerson) -> bytes:
    return f"client_id={server.client_id}&client_secret={server.client_secret}&grant_type=client_credentials".encode()
