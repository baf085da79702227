"""A small double of the platform's CommonServerPython: only what an event collector uses.

Names, signatures, defaults and error messages follow the real library; the behaviour is the real one's except
where a docstring says what stands in for the platform (the XSIAM HTTP collector). The integration must never
rely on anything here that the real library does not do.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urljoin

import dateparser
import demistomock as demisto
import requests

IS_PY3 = True
XSIAM_EVENT_CHUNK_SIZE = 2**20
XSIAM_EVENT_CHUNK_SIZE_LIMIT = 9 * (10**6)


class EntryType:
    NOTE = 1
    ERROR = 4


class EntryFormat:
    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


class DemistoException(Exception):
    def __init__(self, message: Any, exception: BaseException | None = None, res: Any = None, *args: Any):
        self.res = res
        self.message = message
        self.exception = exception
        super().__init__(message, exception, *args)

    def __str__(self) -> str:
        return str(self.message)


def handle_proxy(proxy_param_name: str = "proxy", checkbox_default_value: bool = False, handle_insecure: bool = True) -> dict:
    proxies: dict[str, str] = {}
    if demisto.params().get(proxy_param_name, checkbox_default_value):
        proxies = {"http": os.environ.get("HTTP_PROXY", ""), "https": os.environ.get("HTTPS_PROXY", "")}
    return proxies


def skip_proxy() -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        os.environ.pop(name, None)


class BaseClient:
    """HTTP client base: a requests session, the instance's verify/proxy/timeout, and `_http_request`."""

    REQUESTS_TIMEOUT = 60

    def __init__(
        self,
        base_url: str,
        verify: bool = True,
        proxy: bool = False,
        ok_codes: tuple = (),
        headers: dict | None = None,
        auth: Any = None,
        timeout: float = REQUESTS_TIMEOUT,
    ):
        self._base_url = base_url
        self._verify = verify
        self._ok_codes = ok_codes
        self._headers = headers
        self._auth = auth
        self._session = requests.Session()
        self.timeout = timeout
        if proxy:
            self._session.proxies = handle_proxy()
        else:
            skip_proxy()
        if not verify:
            self._session.verify = False

    def _is_status_code_valid(self, response: requests.Response, ok_codes: Any = None) -> bool:
        status_codes = ok_codes or self._ok_codes
        if status_codes:
            return response.status_code in status_codes
        return response.ok

    def client_error_handler(self, res: requests.Response) -> None:
        err_msg = f"Error in API call [{res.status_code}] - {res.reason}"
        try:
            err_msg += f"\n{json.dumps(res.json())}"
        except ValueError:
            err_msg += f"\n{res.text}"
        raise DemistoException(err_msg, res=res)

    def _http_request(
        self,
        method: str,
        url_suffix: str = "",
        full_url: str | None = None,
        headers: dict | None = None,
        auth: Any = None,
        json_data: Any = None,
        params: dict | None = None,
        data: Any = None,
        files: Any = None,
        timeout: float | None = None,
        resp_type: str = "json",
        ok_codes: Any = None,
        return_empty_response: bool = False,
        retries: int = 0,
        status_list_to_retry: Any = None,
        backoff_factor: float = 5,
        raise_on_redirect: bool = False,
        raise_on_status: bool = False,
        error_handler: Any = None,
        empty_valid_codes: Any = None,
        params_parser: Any = None,
        with_metrics: bool = False,
        **kwargs: Any,
    ) -> Any:
        try:
            address = full_url if full_url else urljoin(self._base_url, url_suffix)
            res = self._session.request(
                method,
                address,
                verify=self._verify,
                params=params,
                data=data,
                json=json_data,
                files=files,
                headers=headers if headers else self._headers,
                auth=auth if auth else self._auth,
                timeout=timeout if timeout else self.timeout,
                **kwargs,
            )
            if not self._is_status_code_valid(res, ok_codes):
                if error_handler:
                    error_handler(res)
                else:
                    self.client_error_handler(res)
            if res.status_code in (empty_valid_codes or [204]) and return_empty_response:
                return res
            resp_type = resp_type.lower()
            try:
                if resp_type == "json":
                    return res.json()
                if resp_type == "text":
                    return res.text
                if resp_type == "content":
                    return res.content
                if resp_type == "xml":
                    return ET.fromstring(res.content)
                return res
            except ValueError as exception:
                raise DemistoException(f"Failed to parse {resp_type} object from response: {res.content!r}", exception, res)
        except requests.exceptions.ConnectTimeout as exception:
            raise DemistoException(
                "Connection Timeout Error - potential reasons might be that the Server URL parameter is incorrect or that the "
                "Server is not accessible from your host.",
                exception,
            )
        except requests.exceptions.SSLError as exception:
            raise DemistoException(
                "SSL Certificate Verification Failed - try selecting 'Trust any certificate' checkbox in the integration "
                f"configuration.\nError Type: {type(exception).__name__}",
                exception,
            )
        except requests.exceptions.ProxyError as exception:
            raise DemistoException(
                "Proxy Error - if the 'Use system proxy' checkbox in the integration configuration is selected, try "
                "clearing the checkbox.",
                exception,
            )
        except requests.exceptions.ConnectionError as exception:
            raise DemistoException(
                "Verify that the server URL parameter is correct and that you have access to the server from your host."
                f"\nError Type: {type(exception).__name__}",
                exception,
            )


def _split_into_chunks(data: str, chunk_size: int) -> list[list[str]]:
    """The real library's chunking: lines are added to a chunk until the sizes of its lines, as sys.getsizeof
    counts them, reach the chunk size; only then does the next line open a new chunk (so a chunk may end above it)."""
    target = min(chunk_size, XSIAM_EVENT_CHUNK_SIZE_LIMIT)
    chunks: list[list[str]] = []
    current: list[str] = []
    current_size = 0
    for line in data.split("\n"):
        if current_size >= target:
            chunks.append(current)
            current, current_size = [], 0
        current.append(line)
        current_size += sys.getsizeof(line)
    if current_size:
        chunks.append(current)
    return chunks


_chunks_sent_in_process = 0
events_accepted_in_process = 0  # what the platform took from this process: the platform runner reads it, not the sink


def _refused_chunks() -> set[int]:
    value = os.environ.get("XSIAM_REFUSE_CHUNKS", "")
    return {int(part) for part in value.split(",") if part.strip().isdigit()}


def send_events_to_xsiam(
    events: Any,
    vendor: str,
    product: str,
    data_format: str | None = None,
    url_key: str = "url",
    num_of_attempts: int = 3,
    chunk_size: int = XSIAM_EVENT_CHUNK_SIZE,
    should_update_health_module: bool = True,
    add_proxy_to_request: bool = False,
    multiple_threads: bool = False,
) -> None:
    """Sends events to the XSIAM dataset <vendor>_<product>_raw, chunk by chunk, like the real one.

    Stands in for the platform: instead of POSTing each gzip chunk, an accepted chunk is appended to the file named
    by XSIAM_SINK_FILE (one event a line, exactly as sent). XSIAM_REFUSE_CHUNKS lists the chunk numbers (1-based,
    counted per process) that the collector refuses: the real one then raises, and earlier chunks stay ingested.
    """
    global _chunks_sent_in_process, events_accepted_in_process
    if not events:
        demisto.debug("send_events_to_xsiam function received no events, skipping the API call to send events to XSIAM")
        demisto.updateModuleHealth({"eventsPulled": 0})
        return
    # The real library's steps, and so its cost: one serialisation per event, all joined, split again into chunks.
    if isinstance(events, list) and isinstance(events[0], dict):
        events = [json.dumps(event) for event in events]
    data = events if isinstance(events, str) else "\n".join(events)
    sink = os.environ.get("XSIAM_SINK_FILE")
    sent = 0
    for chunk in _split_into_chunks(data, chunk_size):
        _chunks_sent_in_process += 1
        payload = "\n".join(chunk)
        gzip.compress(payload.encode("utf-8"))  # what would go over the wire
        if _chunks_sent_in_process in _refused_chunks():
            raise DemistoException(
                f"Error sending new events into XSIAM.\nParameters used:\n\tURL: https://api-xsiam.example.test/logs/v1/xsiam\n"
                f"\tHeaders: {{'format': 'json', 'product': '{product}', 'vendor': '{vendor}'}}\n\nResponse status code: 400\n"
                "Error received:\n\tchunk refused by the test platform"
            )
        if sink:
            with open(sink, "a") as handle:
                handle.write(payload + "\n")
        sent += len(chunk)
        events_accepted_in_process += len(chunk)
    if should_update_health_module:
        demisto.updateModuleHealth({"eventsPulled": sent})


def support_multithreading() -> None:
    """The real one puts a lock around the calls the demisto object makes to the server, so that other threads may
    make them too; the double's demisto calls only touch this process's memory."""


class CommandResults:
    def __init__(
        self,
        outputs_prefix: str | None = None,
        outputs_key_field: Any = None,
        outputs: Any = None,
        indicators: Any = None,
        readable_output: str | None = None,
        raw_response: Any = None,
        indicators_timeline: Any = None,
        indicator: Any = None,
        ignore_auto_extract: bool = False,
        mark_as_note: bool = False,
        scheduled_command: Any = None,
        relationships: Any = None,
        entry_type: int | None = None,
        content_format: str | None = None,
        execution_metrics: Any = None,
        replace_existing: bool = False,
    ):
        self.outputs_prefix = outputs_prefix
        self.outputs_key_field = outputs_key_field
        self.outputs = outputs
        self.readable_output = readable_output
        self.raw_response = raw_response
        self.entry_type = entry_type if entry_type is not None else EntryType.NOTE
        self.content_format = content_format or EntryFormat.JSON
        self.ignore_auto_extract = ignore_auto_extract
        self.mark_as_note = mark_as_note

    def to_context(self) -> dict:
        outputs: dict = {}
        if self.outputs is not None and self.outputs_prefix:
            key = self.outputs_prefix
            if self.outputs_key_field:
                field = self.outputs_key_field
                key = f"{self.outputs_prefix}(val.{field} && val.{field} == obj.{field})"
            outputs[key] = self.outputs
        human_readable = self.readable_output
        if human_readable is None and self.outputs is not None:
            human_readable = tableToMarkdown("Results", self.outputs)
        return {
            "Type": self.entry_type,
            "ContentsFormat": self.content_format,
            "Contents": self.raw_response if self.raw_response is not None else self.outputs,
            "HumanReadable": human_readable,
            "EntryContext": outputs,
            "IndicatorTimeline": [],
            "IgnoreAutoExtract": self.ignore_auto_extract,
            "Note": self.mark_as_note,
            "Relationships": None,
        }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value).replace("|", "\\|").replace("\n", "<br>")


def tableToMarkdown(
    name: str,
    t: Any,
    headers: Any = None,
    headerTransform: Any = None,
    removeNull: bool = False,
    metadata: Any = None,
    url_keys: Any = None,
    date_fields: Any = None,
    json_transform_mapping: Any = None,
    is_auto_json_transform: bool = False,
    sort_headers: bool = True,
) -> str:
    markdown = f"### {name}\n" if name else ""
    rows = [t] if isinstance(t, dict) else list(t or [])
    if not rows:
        return markdown + "**No entries.**\n"
    if isinstance(headers, str):
        headers = [headers]
    if not headers:
        headers = sorted({key for row in rows for key in row}) if sort_headers else list(rows[0])
    if removeNull:
        headers = [h for h in headers if any(row.get(h) not in (None, "", [], {}) for row in rows)]
    shown = [headerTransform(h) if headerTransform else h for h in headers]
    markdown += "|" + "|".join(shown) + "|\n"
    markdown += "|" + "|".join("---" for _ in shown) + "|\n"
    for row in rows:
        markdown += "| " + " | ".join(_cell(row.get(h)) for h in headers) + " |\n"
    return markdown


def return_results(results: Any) -> None:
    if results is None:
        return
    if isinstance(results, list):
        for result in results:
            return_results(result)
        return
    if isinstance(results, CommandResults):
        demisto.results(results.to_context())
        return
    demisto.results(results)


def return_error(message: Any, error: Any = "", outputs: Any = None) -> None:
    """Logs the error, writes an error entry and ends the process, like the real one."""
    demisto.error(str(message))
    if error:
        demisto.error(str(error))
    demisto.results(
        {"Type": EntryType.ERROR, "ContentsFormat": EntryFormat.TEXT, "Contents": str(message), "EntryContext": outputs}
    )
    sys.exit(0)


def arg_to_number(arg: Any, arg_name: str | None = None, required: bool = False) -> int | None:
    if arg is None or arg == "":
        if required:
            raise ValueError(f'Missing "{arg_name}"' if arg_name else "Missing required argument")
        return None
    if isinstance(arg, str):
        if arg.isdigit():
            return int(arg)
        try:
            return int(float(arg))
        except Exception:
            if arg_name is None:
                raise ValueError(f'"{arg}" is not a valid number')
            raise ValueError(f'Invalid number: "{arg_name}"="{arg}"')
    if isinstance(arg, int):
        return arg
    raise ValueError(f'"{arg}" is not a valid number' if arg_name is None else f'Invalid number: "{arg_name}"="{arg}"')


def arg_to_datetime(
    arg: Any, arg_name: str | None = None, is_utc: bool = True, required: bool = False, settings: Any = None
) -> Any:
    if arg is None:
        if required:
            raise ValueError(f'Missing "{arg_name}"' if arg_name else "Missing required argument")
        return None
    if (isinstance(arg, str) and arg.isdigit()) or isinstance(arg, int | float):
        ms = float(arg)
        if ms > 2000000000.0:
            ms = ms / 1000.0
        return datetime.fromtimestamp(ms, tz=timezone.utc) if is_utc else datetime.fromtimestamp(ms)
    if isinstance(arg, str):
        date_settings = settings or {}
        if is_utc:
            date_settings = {"TIMEZONE": "UTC", **date_settings}
        date = dateparser.parse(arg, settings=date_settings)
        if date is None:
            raise ValueError(f'"{arg_name}" is not a valid date' if arg_name else f'"{arg}" is not a valid date')
        return date
    raise ValueError(f'"{arg_name}" is not a valid date' if arg_name else f'"{arg}" is not a valid date')


def argToBoolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value.lower() in ("true", "yes"):
            return True
        if value.lower() in ("false", "no"):
            return False
        raise ValueError("Argument does not contain a valid boolean-like value")
    raise ValueError("Argument is neither a string nor a boolean")


def argToList(arg: Any, separator: str = ",", transform: Any = None) -> list:
    if not arg:
        return []
    if isinstance(arg, list):
        result = arg
    elif isinstance(arg, str) and arg.startswith("["):
        result = json.loads(arg)
    elif isinstance(arg, str):
        result = [item.strip() for item in arg.split(separator)]
    else:
        result = [arg]
    return [transform(item) for item in result] if transform else result
