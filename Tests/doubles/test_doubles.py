"""The doubles behave like the platform on what the integration relies on."""

import json
from typing import Any

import demistomock as demisto
import pytest
import requests
from CommonServerPython import (
    BaseClient,
    CommandResults,
    DemistoException,
    arg_to_datetime,
    arg_to_number,
    return_error,
    send_events_to_xsiam,
    tableToMarkdown,
)


@pytest.fixture(autouse=True)
def fresh_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    demisto._reset()
    monkeypatch.delenv("XSIAM_SINK_FILE", raising=False)
    monkeypatch.delenv("XSIAM_REFUSE_CHUNKS", raising=False)


def test_last_run_and_context_are_json_copies() -> None:
    """
    Given a last run and an integration context saved by an integration
    When they are read back and the copies mutated
    Then the stored documents are unchanged, and something that is not JSON cannot be stored
    """
    demisto.setLastRun({"a": [1]})
    demisto.getLastRun()["a"].append(2)
    assert demisto.getLastRun() == {"a": [1]}
    demisto.setIntegrationContext({"k": {"v": 1}})
    demisto.getIntegrationContext()["k"]["v"] = 2
    assert demisto.getIntegrationContext() == {"k": {"v": 1}}
    with pytest.raises(TypeError):
        demisto.setLastRun({"when": object()})


def test_http_request_error_keeps_the_response(requests_mock: Any) -> None:
    """
    Given a server answering 403
    When _http_request runs without an error handler
    Then a DemistoException with the real message format carries the response
    """
    requests_mock.get("https://h.test/x", status_code=403, json={"e": 1})
    with pytest.raises(DemistoException) as raised:
        BaseClient("https://h.test")._http_request("GET", "/x")
    assert str(raised.value).startswith("Error in API call [403]")
    assert raised.value.res.status_code == 403


def test_error_handler_that_returns_lets_the_response_through(requests_mock: Any) -> None:
    """
    Given an error handler that does not raise
    When _http_request gets a 500 with resp_type='response'
    Then the response comes back, as with the real library
    """
    requests_mock.get("https://h.test/x", status_code=500)
    response = BaseClient("https://h.test")._http_request("GET", "/x", resp_type="response", error_handler=lambda res: None)
    assert response.status_code == 500


def test_connection_and_parse_errors(requests_mock: Any) -> None:
    """
    Given a host that refuses connections, and one that answers a non-JSON body
    When _http_request runs
    Then both raise DemistoException with readable messages
    """
    requests_mock.get("https://down.test/x", exc=requests.exceptions.ConnectionError("refused"))
    with pytest.raises(DemistoException, match="Verify that the server URL parameter is correct"):
        BaseClient("https://down.test")._http_request("GET", "/x")
    requests_mock.get("https://h.test/x", text="<html>")
    with pytest.raises(DemistoException, match="Failed to parse json"):
        BaseClient("https://h.test")._http_request("GET", "/x")


def test_send_events_chunks_and_refusal(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Given three events of ~600 KB and a collector refusing the second chunk
    When they are sent
    Then the first chunk (two events: a chunk closes only once it has reached 1 MiB, as in the real library) stays
    ingested, the call raises, and module health is not updated
    """
    sink = tmp_path / "sink.ndjson"
    monkeypatch.setenv("XSIAM_SINK_FILE", str(sink))
    import CommonServerPython as csp

    monkeypatch.setattr(csp, "_chunks_sent_in_process", 0)
    monkeypatch.setenv("XSIAM_REFUSE_CHUNKS", "2")
    events = [{"n": i, "blob": "x" * 600_000} for i in range(3)]
    with pytest.raises(DemistoException, match="Error sending new events into XSIAM"):
        send_events_to_xsiam(events, vendor="v", product="p")
    assert [json.loads(line)["n"] for line in sink.read_text().splitlines()] == [0, 1]
    assert demisto._platform.module_health == []


def test_send_events_empty_list_only_updates_health(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Given no events
    When they are sent
    Then nothing is written and module health says 0
    """
    sink = tmp_path / "sink.ndjson"
    monkeypatch.setenv("XSIAM_SINK_FILE", str(sink))
    send_events_to_xsiam([], vendor="v", product="p")
    assert not sink.exists()
    assert demisto._platform.module_health == [{"data": {"eventsPulled": 0}, "is_error": False}]


def test_args_and_tables() -> None:
    """
    Given typical argument values
    When they are converted and tabulated
    Then the real library's messages and shapes come out
    """
    assert arg_to_number("5") == 5
    with pytest.raises(ValueError, match='Invalid number: "limit"="x"'):
        arg_to_number("x", "limit")
    with pytest.raises(ValueError, match='"start" is not a valid date'):
        arg_to_datetime("not a date", "start")
    assert arg_to_datetime("1700000000").year == 2023
    assert tableToMarkdown("T", [{"a": 1}], headers=["a"]) == "### T\n|a|\n|---|\n| 1 |\n"
    assert tableToMarkdown("T", []) == "### T\n**No entries.**\n"
    entry = CommandResults(outputs_prefix="P", outputs_key_field="id", outputs=[{"id": 1}]).to_context()
    assert entry["EntryContext"] == {"P(val.id && val.id == obj.id)": [{"id": 1}]}


def test_return_error_writes_an_error_entry_and_exits() -> None:
    """
    Given an error
    When return_error is called
    Then an error entry (Type 4) is written and the process ends with code 0
    """
    with pytest.raises(SystemExit) as raised:
        return_error("bad thing")
    assert raised.value.code == 0
    assert demisto._platform.results[-1]["Type"] == 4
