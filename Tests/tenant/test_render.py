"""War-room entries as text."""

from __future__ import annotations

from CommonServerPython import tableToMarkdown

from Tests.tenant.client import WarRoomEntry
from Tests.tenant.render import entry_as_text, markdown_as_text


def test_a_markdown_table_becomes_aligned_columns() -> None:
    """
    Given the markdown a command's tableToMarkdown writes, with an escaped pipe, a line break and a missing value
    When it is shown as text
    Then the heading is a plain line, the columns are aligned under a dashed rule, and the cells read as written
    """
    markdown = tableToMarkdown("Events (2)", [{"a": "x|y", "b": "one\ntwo"}, {"a": "long value", "b": None}], headers=["a", "b"])
    assert markdown_as_text(markdown).splitlines() == [
        "Events (2)",
        "a           b",
        "----------  -------",
        "x|y         one two",
        "long value",
    ]


def test_long_cells_are_shortened() -> None:
    """
    Given a table cell longer than a terminal column should be
    When it is shown
    Then it is cut to 32 characters ending with an ellipsis
    """
    text = markdown_as_text("|h|\n|---|\n| " + "z" * 50 + " |")
    assert text.splitlines()[-1] == "z" * 31 + "…"


def test_text_around_tables_is_kept() -> None:
    """
    Given markdown with bold text, a paragraph and two tables
    When it is shown
    Then the text stays (without the bold markers) and both tables are laid out
    """
    markdown = "**No entries.**\nsome words\n|a|\n|---|\n|1|\n\n|b|\n|:---:|\n|2|"
    assert markdown_as_text(markdown).splitlines() == ["No entries.", "some words", "a", "-", "1", "", "b", "-", "2"]


def test_entries_by_kind() -> None:
    """
    Given an error entry, a JSON entry and a text entry
    When they are shown
    Then the error is marked, JSON is pretty-printed, text is left as it is (a pipe in text is not a table)
    """
    assert entry_as_text(WarRoomEntry(4, "Failed to execute", "text")) == "ERROR: Failed to execute"
    assert entry_as_text(WarRoomEntry(1, {"b": 1, "a": [2]}, "json")) == '{\n  "a": [\n    2\n  ],\n  "b": 1\n}'
    assert entry_as_text(WarRoomEntry(1, "| not a table", "text")) == "| not a table"
