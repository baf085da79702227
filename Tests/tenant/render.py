"""War-room entries as a terminal shows them: markdown headings as lines, markdown tables as aligned columns."""

from __future__ import annotations

import json
import re
from typing import Any

from Tests.tenant.client import WarRoomEntry

CELL_WIDTH = 32  # wider cells are cut with an ellipsis, so that a table of audit records fits a terminal
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_SEPARATOR_CELL = re.compile(r":?-{3,}:?")


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [cell.strip().replace("\\|", "|").replace("<br>", " ") for cell in _CELL_SPLIT.split(inner)]


def _is_separator(line: str) -> bool:
    cells = _cells(line)
    return bool(cells) and all(_SEPARATOR_CELL.fullmatch(cell) for cell in cells)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def table_as_text(lines: list[str], width: int = CELL_WIDTH) -> list[str]:
    """A markdown table (header, separator, rows) as aligned columns."""
    rows = [[_shorten(cell, width) for cell in _cells(line)] for line in lines if not _is_separator(line)]
    columns = max(len(row) for row in rows)
    rows = [row + [""] * (columns - len(row)) for row in rows]
    widths = [max(len(row[index]) for row in rows) for index in range(columns)]
    text = ["  ".join(cell.ljust(widths[index]) for index, cell in enumerate(row)).rstrip() for row in rows]
    return [text[0], "  ".join("-" * w for w in widths), *text[1:]]


def markdown_as_text(markdown: str) -> str:
    out: list[str] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.lstrip().startswith("|") and index + 1 < len(lines) and _is_separator(lines[index + 1]):
            end = index + 2
            while end < len(lines) and lines[end].lstrip().startswith("|"):
                end += 1
            out.extend(table_as_text(lines[index:end]))
            index = end
            continue
        heading = re.match(r"^#{1,6}\s+(.*)$", line)
        out.append(heading.group(1) if heading else line.replace("**", ""))
        index += 1
    return "\n".join(out).rstrip()


def contents_as_text(contents: Any, format: str) -> str:
    if isinstance(contents, dict | list):
        return json.dumps(contents, indent=2, sort_keys=True)
    text = str(contents if contents is not None else "")
    return markdown_as_text(text) if format in ("markdown", "table", "") else text


def entry_as_text(entry: WarRoomEntry) -> str:
    text = contents_as_text(entry.contents, entry.format)
    return f"ERROR: {text}" if entry.is_error else text
