"""The module's fast paths against the code they replaced: same times, same texts, same sizes, same errors.

The reading of changeDates and `format_time` were rewritten for speed (issue 10), and events are serialised once, by
`event_line`, instead of being measured and then serialised again by the platform. The versions they replaced are
kept below, word for word, as the reference; every test feeds both many inputs, ordinary and odd, and wants the same
answer or the same error from each. Times are read through the module's real path, `make_entries`. Later,
`record_json` (the C encoder built once) and `make_entries` (a page's entries in one pass) are held to `json.dumps`,
to `event_line` and to the fingerprint's definition (BLAKE2b, 8 bytes, of the record's JSON) the same way.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import CommonServerPython
import LivePersonAuditTrail
import pytest
import pytz
from freezegun import freeze_time
from LivePersonAuditTrail import (
    Batch,
    ResponseFormatError,
    event_line,
    format_time,
    make_entries,
    read_change_date,
    record_json,
    to_event,
)

from Tests.fake_liveperson import data

# ---------------------------------------------------------------- the replaced versions (the reference)


def old_format_time(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def old_record_time(record: dict[str, Any]) -> datetime:
    value = record.get("changeDate")
    for pattern in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(str(value), pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ResponseFormatError(f'An audit record has a changeDate that is not a time: "{str(value)[:40]}".')


def reference_fingerprint(record: dict[str, Any]) -> int:
    """The fingerprint as defined: BLAKE2b with an 8-byte digest of the record's JSON (saved sketches depend on it)."""
    return int.from_bytes(hashlib.blake2b(json.dumps(record).encode(), digest_size=8).digest(), "big")


def entry_time(record: dict[str, Any]) -> datetime:
    """The time the module reads from a record: its entry's, as `make_entries` makes it."""
    return make_entries([record])[0].when


def old_to_event(record: dict[str, Any], when: datetime) -> dict[str, Any]:
    return {**record, "_time": old_format_time(when)}


def old_event_size(event: dict[str, Any]) -> int:
    return len(json.dumps(event)) + 1


def outcome(function: Any, *args: Any) -> tuple[str, Any]:
    """What a call gave: ("value", result) or ("error", its type and message)."""
    try:
        return "value", function(*args)
    except Exception as error:
        return "error", (type(error).__name__, str(error))


# ---------------------------------------------------------------- changeDate


ODD_CHANGE_DATES: list[Any] = [
    "2024-05-01 13:45:10.0",
    "2024-05-01 13:45:10",
    "2024-05-01 13:45:10.5",
    "2024-05-01 13:45:10.05",
    "2024-05-01 13:45:10.123",
    "2024-05-01 13:45:10.1234",
    "2024-05-01 13:45:10.12345",
    "2024-05-01 13:45:10.123456",
    "2024-05-01 13:45:10.1234567",  # seven digits: not a time for strptime
    "2024-05-01 13:45:10.",
    "2024-05-01 13:45:10,5",
    "2024-05-01T13:45:10.0",
    "2024-05-01 13:45:10.0Z",
    "2024-05-01 13:45:10.0+00:00",
    "2024-05-01 13:45:10+00:00",
    " 2024-05-01 13:45:10.0",
    "2024-05-01 13:45:10.0 ",
    "2024-05-01  13:45:10.0",
    "2024-5-1 1:2:3",  # strptime takes single digits
    "2024-5-1 1:2:3.4",
    "2024-05-1 13:45:10",
    "2024-05-01 24:00:00",
    "2024-05-01 23:60:00",
    "2024-05-01 23:59:60",
    "2024-05-01 23:59:61",
    "2024-13-01 00:00:00",
    "2024-00-01 00:00:00",
    "2024-02-29 00:00:00.0",
    "2023-02-29 00:00:00.0",
    "2024-04-31 00:00:00",
    "2024-01-32 00:00:00",
    "0000-01-01 00:00:00",
    "0001-01-01 00:00:00.0",
    "9999-12-31 23:59:59.999999",
    "٢٠٢٤-٠٥-٠١ ١٣:٤٥:١٠.٠",  # Arabic-Indic digits, which strptime's \\d accepts
    "２０２４-０５-０１ １３:４５:１０",  # full-width digits
    "2024-05-01 13:45:1٠.0",
    "2024-05-01 13:45:10.٠",
    "20240501 134510",
    "2024-W18-3 13:45:10",
    "2024-05-01",
    "13:45:10",
    "",
    "None",
    "not a time",
    "2024-05-01 13:45:10.0\n",
    "2024-05-01 13:45:10.0\x00",
    "2024-05-01 13:45:10.0 — ünïcödé 😀",
    "x" * 500,
    None,
    0,
    1714571110,
    1714571110.5,
    True,
    ["2024-05-01 13:45:10.0"],
    {"date": "2024-05-01 13:45:10.0"},
]


def mutated_change_dates(count: int, seed: int) -> Iterator[str]:
    """Well-formed changeDates with one or two characters changed, dropped or added at random."""
    rng = random.Random(seed)
    alphabet = "0123456789 -:.T+Z٣９a\t"
    for _ in range(count):
        text = list(f"{rng.randint(1, 9999):04d}-{rng.randint(0, 13):02d}-{rng.randint(0, 32):02d} ")
        text += list(f"{rng.randint(0, 24):02d}:{rng.randint(0, 60):02d}:{rng.randint(0, 61):02d}")
        text += list(rng.choice(["", ".0", f".{rng.randint(0, 10**6 - 1)}", f".{rng.randint(0, 10**7)}"]))
        for _ in range(rng.randint(0, 2)):
            position = rng.randrange(len(text) + 1)
            action = rng.choice(["change", "drop", "add"])
            if action == "change" and position < len(text):
                text[position] = rng.choice(alphabet)
            elif action == "drop" and position < len(text):
                del text[position]
            else:
                text.insert(position, rng.choice(alphabet))
        yield "".join(text)


@pytest.mark.parametrize("value", ODD_CHANGE_DATES, ids=repr)
def test_make_entries_reads_odd_change_dates_as_strptime_did(value: Any) -> None:
    """
    Given a changeDate of any shape JSON has: fractions of every length, .0, none, out-of-range fields, other digits,
    garbage, unicode, a missing value, other types
    When make_entries reads it
    Then it gives the same aware UTC time as the strptime version, or the same error with the same message
    """
    new, old = outcome(entry_time, {"changeDate": value}), outcome(old_record_time, {"changeDate": value})
    assert new == old
    if new[0] == "value":
        assert new[1].tzinfo is UTC


def test_make_entries_of_a_record_without_change_date_is_the_same_error() -> None:
    """
    Given a record without changeDate
    When make_entries reads it
    Then it raises the error the strptime version raised
    """
    assert outcome(entry_time, {}) == outcome(old_record_time, {})
    assert outcome(entry_time, {})[0] == "error"


def test_make_entries_agrees_with_strptime_on_many_changed_dates() -> None:
    """
    Given 20,000 changeDates with random fields (some out of range) and random one- or two-character edits
    When make_entries reads each
    Then every answer, time or error, is the strptime version's
    """
    values = list(mutated_change_dates(20_000, seed=10))
    new = [outcome(entry_time, {"changeDate": value}) for value in values]
    assert new == [outcome(old_record_time, {"changeDate": value}) for value in values]
    assert 2_000 < sum(kind == "value" for kind, _ in new) < 18_000  # both kinds of answer were exercised


# ---------------------------------------------------------------- format_time and to_event


def moments(count: int, seed: int) -> Iterator[datetime]:
    """Times in many zones (fixed offsets, pytz, zoneinfo, naive), with and without fractions, some repeated."""
    rng = random.Random(seed)
    zones: list[Any] = [
        UTC,
        timezone(timedelta(hours=5, minutes=30)),
        timezone(timedelta(hours=-11)),
        pytz.UTC,
        pytz.timezone("US/Eastern"),
        zoneinfo.ZoneInfo("Asia/Kathmandu"),
        zoneinfo.ZoneInfo("Europe/London"),
    ]
    previous = datetime(2024, 5, 1, tzinfo=UTC)
    for _ in range(count):
        if rng.random() < 0.3:  # the same instant again, perhaps in another zone
            yield previous.astimezone(rng.choice(zones[:4]))
            continue
        microsecond = rng.choice([0, 0, 0, 1, 10, 500_000, 120_000, 999_999, rng.randint(0, 999_999)])
        year = rng.choice([1000, 1970, 2024, 2025, 9998, rng.randint(1000, 9998)])
        base = datetime(year, 1, 1) + timedelta(seconds=rng.randint(0, 365 * 86400 - 1), microseconds=microsecond)
        zone = rng.choice(zones)
        moment = zone.localize(base) if isinstance(zone, pytz.BaseTzInfo) else base.replace(tzinfo=zone)
        previous = moment
        yield moment


ODD_MOMENTS = [
    datetime(2024, 5, 1, 13, 45, 10, tzinfo=UTC),
    datetime(2024, 5, 1, 13, 45, 10, 1, tzinfo=UTC),
    datetime(2024, 5, 1, 13, 45, 10, 100000, tzinfo=UTC),
    datetime(2024, 5, 1, 13, 45, 10, 999999, tzinfo=UTC),
    datetime(2024, 5, 1, 0, 0, 0, tzinfo=UTC),
    datetime(2024, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))),  # the next year in UTC
    datetime(1, 1, 1, 12, tzinfo=UTC),  # years below 1000: strftime's own spelling
    datetime(999, 12, 31, 23, 59, 59, 5, tzinfo=UTC),
    datetime(1000, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 12, tzinfo=UTC),
    datetime(2024, 5, 1, 13, 45, 10),  # naive: read as local time, as before
    datetime(2024, 5, 1, 13, 45, 10, 250000),
    pytz.timezone("US/Eastern").localize(datetime(2024, 11, 3, 1, 30), is_dst=True),
    pytz.timezone("US/Eastern").localize(datetime(2024, 11, 3, 1, 30), is_dst=False),
]


@pytest.mark.parametrize("moment", ODD_MOMENTS, ids=repr)
def test_format_time_writes_odd_times_as_before(moment: datetime) -> None:
    """
    Given a time: UTC or another zone, naive, with a fraction or without, the first and last years
    When format_time writes it
    Then the text is the one the strftime version wrote
    """
    assert format_time(moment) == old_format_time(moment)


def test_format_time_writes_many_times_as_before_in_any_order() -> None:
    """
    Given 20,000 times in many zones, a third of them the instant just written again (its memo's case)
    When format_time writes them one after another
    Then each text is the one the strftime version wrote
    """
    values = list(moments(20_000, seed=11))
    assert [format_time(moment) for moment in values] == [old_format_time(moment) for moment in values]


def test_format_time_is_not_fooled_by_its_memo() -> None:
    """
    Given the same instant written first with a fraction and then without, equal instants in two zones, and the
    instant just before
    When format_time writes them in turn
    Then each text is the strftime version's
    """
    moment = datetime(2024, 5, 1, 13, 45, 10, 500000, tzinfo=UTC)
    sequence = [
        moment,
        moment.replace(microsecond=0),
        moment.replace(microsecond=0),
        moment.astimezone(timezone(timedelta(hours=2))),
        moment,
        moment - timedelta(microseconds=1),
        moment.replace(tzinfo=None),
        moment,
    ]
    assert [format_time(value) for value in sequence] == [old_format_time(value) for value in sequence]


@freeze_time("2026-11-22 12:00:00")
def test_format_time_of_a_frozen_clock_is_as_before() -> None:
    """
    Given the clock frozen, as the unit tests do (datetime.now gives freezegun's own datetime type)
    When format_time writes now and a time derived from it
    Then the texts are the strftime version's
    """
    now = datetime.now(UTC)
    for value in (now, now - timedelta(minutes=1), now.replace(microsecond=123)):
        assert format_time(value) == old_format_time(value)


def test_to_event_is_the_record_with_the_same_time_as_before() -> None:
    """
    Given audit records as the fake writes them, and odd ones (a _time already there, unicode, empty)
    When to_event makes events of them
    Then every event equals the old version's, key order included
    """
    rng = data.make_rng(3)
    records = [data.make_record(datetime(2024, 5, 1, tzinfo=UTC) + timedelta(seconds=i // 3), rng) for i in range(300)]
    records += [{"_time": "stale", "newValue": "ünïcödé 😀"}, {}, {"changeDate": None}]
    values = list(moments(len(records), seed=12))
    for record, when in zip(records, values, strict=True):
        new, old = to_event(record, when), old_to_event(record, when)
        assert new == old
        assert list(new) == list(old)


# ---------------------------------------------------------------- event lines and Batch


ODD_STRINGS = [
    "",
    "plain",
    'quote " and backslash \\',
    "control \x00\x01\x1f and \t\n\r\b\f",
    "delete \x7f",
    "latin ünïcödé",
    "cjk 漢字",
    "emoji 😀 beyond the BMP",
    "lone surrogates \ud800 \udfff",
    "\ud83d\ude00 a surrogate pair as two characters",
    "</script> & <b>",
    "x" * 5000,
]


def odd_events(count: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    plain_values: list[Any] = [*ODD_STRINGS, None, True, False]
    other_values: list[Any] = [0, -7, 2**70, 1.5, float("nan"), [1, "a"], {"nested": "ü"}, ("tuple",)]
    for _ in range(count):
        event: dict[Any, Any] = {}
        for _ in range(rng.randint(0, 16)):
            key = rng.choice([*ODD_STRINGS[:9], f"field{rng.randint(0, 99)}"])
            event[key] = rng.choice(plain_values)
        roll = rng.random()
        if roll < 0.1:
            event[f"n{rng.randint(0, 9)}"] = rng.choice(other_values)
        elif roll < 0.13:
            event[rng.choice([1, 2.5, None, True])] = "a key json.dumps turns into a string"
        yield event


WHEN = datetime(2024, 5, 1, 12, 30, 15, 500000, tzinfo=UTC)


def line_size(event: dict[str, Any]) -> int:
    """What the module counts for an event: its line and the newline."""
    record = {key: value for key, value in event.items() if key != "_time"}
    return len(event_line(record, WHEN)) + 1


def test_event_line_is_the_serialised_event_for_audit_records() -> None:
    """
    Given the fake's audit records
    When each becomes an event line
    Then the line is json.dumps of the event, and its size the old measure
    """
    rng = data.make_rng(4)
    records = [data.make_record(datetime(2024, 5, 1, tzinfo=UTC) + timedelta(seconds=i), rng) for i in range(500)]
    for record in records:
        plain = {k: v for k, v in record.items() if k != "timestamp"}
        assert event_line(plain, WHEN) == json.dumps(to_event(plain, WHEN))
        assert line_size(to_event(plain, WHEN)) == old_event_size(to_event(plain, WHEN))


@pytest.mark.parametrize("text", ODD_STRINGS, ids=repr)
def test_event_line_of_odd_strings_as_key_and_value(text: str) -> None:
    """
    Given a string that JSON escapes (quotes, backslashes, control characters, DEL, unicode in and beyond the BMP,
    lone surrogates) as a key and as a value, beside null, true and false
    When the record becomes an event line
    Then the line is json.dumps of the event
    """
    record = {text: text, "null": None, "true": True, "false": False, "empty": ""}
    assert event_line(record, WHEN) == json.dumps(to_event(record, WHEN))


def test_event_line_of_many_odd_records() -> None:
    """
    Given 5,000 random records: odd strings, literals, some numbers, nested values and non-string keys, empty ones
    When each becomes an event line
    Then every line is json.dumps of the event
    """
    records = list(odd_events(5_000, seed=13))
    assert [event_line(record, WHEN) for record in records] == [json.dumps(to_event(record, WHEN)) for record in records]
    assert any(not record for record in records)


@pytest.mark.parametrize("encoder", ["built once", "json.dumps"])
def test_record_json_is_json_dumps(encoder: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Given 5,000 random records with odd strings, literals, numbers and nested values
    When each is serialised by record_json, with the C encoder built once or, where there is none, by json.dumps
    Then every text is json.dumps of the record, and make_entries sends and hashes exactly that
    """
    assert LivePersonAuditTrail._ENCODE_JSON is not None  # CPython has the C encoder: the fast path is the one tested
    if encoder == "json.dumps":
        monkeypatch.setattr(LivePersonAuditTrail, "_ENCODE_JSON", None)
    records = list(odd_events(5_000, seed=21))
    assert [record_json(record) for record in records] == [json.dumps(record) for record in records]
    dated = [{**record, "changeDate": "2026-11-23 10:00:00.0"} for record in records if "_time" not in record]
    entries = make_entries(dated)
    changed = datetime(2026, 11, 23, 10, tzinfo=UTC)
    assert [entry.line for entry in entries] == [json.dumps(to_event(record, changed)) for record in dated]
    assert [entry.fp for entry in entries] == [reference_fingerprint(record) for record in dated]


def entry_as_the_pieces_make_it(record: dict[str, Any]) -> tuple[Any, ...]:
    """An entry of `record` from the general functions, one at a time: what `make_entries` must give."""
    when = old_record_time(record)
    return when, reference_fingerprint(record), event_line(record, when), when.replace(microsecond=0)


def test_make_entries_reads_every_change_date_as_the_general_functions_do() -> None:
    """
    Given records whose changeDates are of every odd shape JSON has, and 20,000 mutated ones (out-of-range fields, edits),
    each alone and in pages where neighbours share a changeDate
    When make_entries makes their entries
    Then each entry is the one the strptime reading, the fingerprint's definition and event_line make, or the error
    is the same
    """
    values = ODD_CHANGE_DATES + list(mutated_change_dates(20_000, seed=11))
    records = [{"objectName": f"skill {index}", "changeDate": value} for index, value in enumerate(values)]
    answers = [outcome(lambda record: tuple(make_entries([record])[0]), record) for record in records]
    assert answers == [outcome(entry_as_the_pieces_make_it, record) for record in records]
    assert 2_000 < sum(kind == "value" for kind, _ in answers) < 18_000  # both kinds of answer were exercised
    rng = random.Random(12)
    readable = [record for record, (kind, _) in zip(records, answers, strict=True) if kind == "value"]
    page = [dict(record, objectName=f"user {index}") for index, record in enumerate(readable) for _ in range(rng.randint(1, 3))]
    assert [tuple(entry) for entry in make_entries(page)] == [entry_as_the_pieces_make_it(record) for record in page]


@pytest.mark.parametrize(
    "value", ["2026-11-23 10:00:00", "2026-11-23 10:00:00.0", "2026-11-23 10:00:00.250", "0999-01-02 03:04:05.0"]
)
def test_change_date_stamp_is_format_time(value: str) -> None:
    """
    Given changeDates of the shape LivePerson writes, with and without fractions, and a year below 1000
    When read_change_date reads one
    Then its `_time` text is format_time of its time
    """
    when, stamp = read_change_date(value)
    assert stamp == format_time(when)
    assert when == old_record_time({"changeDate": value})


def test_batches_are_cut_where_they_were() -> None:
    """
    Given a stream of events of mixed sizes (some of 200 KB) fed to a Batch as the fetch loop does
    When batches are cut with the line sizes and with the old measure
    Then the cuts are the same
    """
    rng = random.Random(14)
    events = [{"newValue": "x" * rng.choice([10, 400, 5000, 200_000]), "v": rng.choice(ODD_STRINGS)} for _ in range(2000)]

    def cuts(measure: Any) -> list[int]:
        batch, sizes = Batch(max_events=500), []
        for event in events:
            size = measure(to_event(event, WHEN))
            if not batch.fits(size):
                sizes.append(len(batch.take()))
            batch.add(json.dumps(event), size)
        return [*sizes, len(batch.take())]

    assert cuts(line_size) == cuts(old_event_size)
    assert len(cuts(line_size)) > 10


@pytest.mark.parametrize("value_size", [1, 400, 899, 1800])
def test_a_full_batch_is_one_chunk_of_the_platform(value_size: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Given a batch filled as far as it goes (1000 events, or as many as fit the send limit), of small to large events
    When the platform library's send chunks it (the double chunks as the real library does)
    Then it is one chunk, so a refused send leaves nothing of the batch ingested
    """
    monkeypatch.setenv("XSIAM_SINK_FILE", str(tmp_path / "sink.ndjson"))
    monkeypatch.setattr(CommonServerPython, "_chunks_sent_in_process", 0)
    batch, event_number = Batch(max_events=1000), 0
    while True:
        line = event_line({"n": str(event_number), "newValue": "y" * value_size, "originatorIsLpa": False}, WHEN)
        if not batch.fits(len(line) + 1):
            break
        batch.add(line, len(line) + 1)
        event_number += 1
    lines = batch.take()
    CommonServerPython.send_events_to_xsiam(
        lines, vendor="liveperson", product="liveengage", data_format="json", should_update_health_module=False
    )
    assert CommonServerPython._chunks_sent_in_process == 1
    assert sum(map(sys.getsizeof, lines)) < CommonServerPython.XSIAM_EVENT_CHUNK_SIZE
