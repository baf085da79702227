"""The pack's XSIAM dashboard: every widget's XQL runs on the collector's events and shows what its title says.

Each widget's phrase is evaluated by the pack's small XQL evaluator (Tests/xql.py) over events made from the fake
LivePerson's realistic backlog, the way the module sends them.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from LivePersonAuditTrail import AUDIT_FIELDS, make_entries

from Tests.fake_liveperson import data
from Tests.test_correlation_rules import DATASET, DATASET_FIELDS, FIRES, record
from Tests.xql import check_columns, parse_query, run_query

DASHBOARDS = Path(__file__).resolve().parent.parent / "Packs" / "LivePerson" / "XSIAMDashboards"
DASHBOARD_FILE = DASHBOARDS / "LivePerson_Audit_Trail.json"
DASHBOARD: dict[str, Any] = json.loads(DASHBOARD_FILE.read_text())
LAYOUT = DASHBOARD["dashboards_data"][0]["layout"]
# The widgets, by title: what the dashboard's layout places, each with its definition (widgets_data).
WIDGETS: dict[str, dict[str, Any]] = {widget["title"]: widget for widget in DASHBOARD["widgets_data"]}
START = datetime(2026, 11, 20, tzinfo=UTC)


def as_sent(item: dict[str, Any]) -> dict[str, Any]:
    """A fake record as the API renders it in UTC, then as the module sends it."""
    rendered = {name: item.get(name) for name in AUDIT_FIELDS if name != "changeDate"}
    rendered["changeDate"] = item["timestamp"].strftime("%Y-%m-%d %H:%M:%S") + ".0"
    return make_entries([rendered])[0].event()


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    backlog = data.generate_backlog(START, START + timedelta(days=2), 400, data.make_rng(7))
    return [as_sent(item) for item in backlog if not item["automatic"]]


def run(title: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return run_query(parse_query(WIDGETS[title]["data"]["phrase"]), records)


def test_dashboard_is_the_pack_s_with_its_preview_image() -> None:
    """
    Given the dashboard file
    When its header is read
    Then it is named after the pack, enabled, has a preview image beside it, and widget titles are unique
    """
    board = DASHBOARD["dashboards_data"][0]
    assert DASHBOARD_FILE.stem.startswith("LivePerson_")
    assert (board["id"], board["name"], board["status"]) == ("LivePerson_Audit_Trail", "LivePerson Audit Trail", "ENABLED")
    assert (DASHBOARDS / f"{DASHBOARD_FILE.stem}_image.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    titles = [widget["data"]["title"] for row in LAYOUT for widget in row["data"]]
    assert len(titles) == len(set(titles)) >= 6
    for row in LAYOUT:
        assert sum(widget["data"]["width"] for widget in row["data"]) <= 100


def test_layout_places_each_widget_once_as_defined() -> None:
    """
    Given the dashboard's layout and its widget definitions
    When they are compared
    Then the layout places every defined widget once, by its key, with the same title, query, time frame and view
    """
    placed = [widget for row in LAYOUT for widget in row["data"]]
    by_key = {widget["widget_key"]: widget for widget in DASHBOARD["widgets_data"]}
    assert sorted(widget["key"] for widget in placed) == sorted(by_key)
    for widget in placed:
        definition = by_key[widget["key"]]
        assert widget["data"]["type"] == "Custom XQL"
        assert widget["data"]["title"] == definition["title"]
        assert {name: widget["data"][name] for name in ("phrase", "time_frame", "viewOptions")} == definition["data"]
        assert definition["additional_info"]["query_tables"] == [DATASET]
        assert definition["description"]


@pytest.mark.parametrize("title", sorted(WIDGETS))
def test_widget_query_reads_the_dataset_and_its_view_matches(title: str, events: list[dict[str, Any]]) -> None:
    """
    Given a widget
    When its XQL is parsed, checked and run on a realistic backlog
    Then it reads only fields of the collector's dataset, its view options are the query's `view` stage (a table
    when it has none), and it returns rows with every column its chart plots
    """
    widget = WIDGETS[title]["data"]
    query = parse_query(widget["phrase"])
    assert query.dataset == DATASET
    check_columns(query, DATASET_FIELDS)
    view = query.view()
    commands = {command["command"]["name"]: command["command"]["value"] for command in widget["viewOptions"]["commands"]}
    assert widget["viewOptions"]["type"] == view.get("type", "table")
    assert commands == {option: value for option, value in view.items() if option != "type"}
    rows = run_query(query, events)
    assert rows
    plotted = {value for option, value in view.items() if option in ("xaxis", "yaxis", "series")}
    assert all(plotted <= set(row) for row in rows)


def test_counters_count_all_changes_and_lpa_changes(events: list[dict[str, Any]]) -> None:
    """
    Given a realistic backlog
    When the two counters run
    Then one counts every change and the other the changes LivePerson administrators made
    """
    assert run("Audit trail changes", events) == [{"changes": len(events)}]
    lpa = sum(1 for event in events if event["originatorIsLpa"])
    assert 0 < lpa < len(events)
    assert run("Changes by LivePerson administrators (LPA)", events) == [{"lpa_changes": lpa}]
    assert {row["originatorLoginName"] for row in run("Latest changes by LivePerson administrators (LPA)", events)} == {
        data.LPA[1]
    }


def test_changes_over_time_are_counted_per_hour_and_object_type(events: list[dict[str, Any]]) -> None:
    """
    Given a realistic backlog
    When the changes-over-time widget runs
    Then its hourly counts per object type add up to every change, in display names, oldest hour first
    """
    rows = run("Changes over time by object type", events)
    assert sum(row["changes"] for row in rows) == len(events)
    assert {row["objectType"] for row in rows} <= set(data.OBJECTS)
    hours = [row["_time"] for row in rows]
    assert hours == sorted(hours) and all(hour.endswith(":00:00Z") for hour in hours)


def test_top_originators_are_the_ten_busiest(events: list[dict[str, Any]]) -> None:
    """
    Given a realistic backlog
    When the top-originators widget runs
    Then it lists at most ten originators, busiest first, with their counts
    """
    rows = run("Top originators", events)
    per_login = Counter(event["originatorLoginName"] for event in events)
    assert [row["changes"] for row in rows] == sorted(per_login.values(), reverse=True)[:10]
    assert all(per_login[row["originatorLoginName"]] == row["changes"] for row in rows)


def test_latest_sensitive_changes_show_what_the_rules_look_at_and_not_routine_edits() -> None:
    """
    Given every record a correlation rule fires on, and routine edits
    When the latest-sensitive-changes widget runs on them
    Then it shows each record a rule fires on and none of the routine edits, newest first
    """
    firing = [item for cases in FIRES.values() for _, records, _ in cases for item in records]
    routine = [
        record(objectType="Campaigns", objectName="Black Friday", element="Status", oldValue="Inactive", newValue="Active"),
        record(objectType="Skills", objectName="Sales", element="Max wait time", oldValue="120", newValue="90"),
        record(objectType="Predefined Content", objectName="Refund policy", element="N/A", oldValue="", newValue=""),
    ]
    shown = run("Latest sensitive changes", [entry.event() for entry in make_entries(firing + routine)])
    key = ("objectType", "objectName", "element", "originatorLoginName")
    assert sorted(tuple(row[name] for name in key) for row in shown) == sorted(
        tuple(item[name] for name in key) for item in firing
    )
    times = [row["_time"] for row in shown]
    assert times == sorted(times, reverse=True)


def test_pack_readme_lists_every_widget_with_what_it_shows() -> None:
    """
    Given the pack README
    When its dashboard table is read
    Then it has a row for each widget, saying what the widget's own description says, and no other row
    """
    readme = (DASHBOARDS.parent / "README.md").read_text()
    section = readme[readme.index("## Dashboard") :]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in section.splitlines() if line.startswith("| ")]
    listed = {title: shows for title, shows in rows if "---" not in title and title != "Widget"}
    assert listed == {title: widget["description"] for title, widget in WIDGETS.items()}
