"""Realistic audit records, written as LivePerson's documented response writes them.

The object types are the display names the records carry ("Users", "Agent Groups", "Predefined Content"...), not the
component names the `componentTypes` filter takes (ACUserObject...). An "Add new" or "Delete" record names no element
("N/A") and has empty old and new values, as in the documented response. Values include the odd cases a collector
must carry unchanged: quotes, unicode, newlines and very long values; `burst` makes identical records in one second.

A record here is a dict of the API's fields plus two internal keys the server never shows: `timestamp` (an aware
UTC datetime, second precision) and `automatic` (an automatic update, shown only with automaticUpdates: true).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

ACCOUNT_ID = "12345678"
NO_ELEMENT = "N/A"  # what a record names as its element when the change is to the whole object

# A profile's permission list, as long as real ones get: the value a collector must not truncate.
LONG_PERMISSIONS = ", ".join(f"Permission {number}: view and edit the settings of area {number}" for number in range(60))

# object type (as records carry it) -> (object names, [(element, old value, new value)] of its "Edit" records)
OBJECTS: dict[str, tuple[list[str], list[tuple[str, str, str]]]] = {
    "Users": (
        ["Dana Cohen", "Sam Lee", "Zoë Müller", "李娜", "Seán O'Brien", 'Priya "PJ" Nair'],
        [
            ("Skills", "Billing", "Billing, Sales"),
            ("Profiles", "Agent", "Agent, Administrator"),
            ("Profiles", "Agent Manager", "Agent"),
            ("Password", "", ""),
            ("Enabled", "true", "false"),
            ("Max chats", "3", "5"),
        ],
    ),
    "Skills": (
        ["Sales", "Billing", "Support Tier 2", "VIP"],
        [("Max wait time", "120", "90"), ("Description", "", "Premium customers\nEscalate to Tier 2 after 5 minutes")],
    ),
    "Profiles": (
        ["Agent", "Agent Manager", "Campaign Manager", "Administrator"],
        [("Permissions", "View reports", "View reports, Edit skills"), ("Permissions", "View reports", LONG_PERMISSIONS)],
    ),
    "Agent Groups": (
        ["Tier 1", "EMEA night shift", "Escalations"],
        [("Parent group", "Main group", "Tier 1"), ("Members", "12", "13")],
    ),
    "LOBs": (["Retail", "Insurance"], [("Name", "Retail", "Retail banking")]),
    "Campaigns": (
        ["Black Friday", "Renewals Q4", "Rentrée 2026"],
        [("Status", "Inactive", "Active"), ("Goal", "Sales", "Engagement")],
    ),
    "Predefined Content": (['Greeting "Hi {name}!"', "Closing – thanks 🙏", "Refund policy"], [(NO_ELEMENT, "", "")]),
    "Content Categories": (["Greetings", "Billing answers"], [(NO_ELEMENT, "", "")]),
    "MTLS Certification": (["brand-api-client-2026"], [(NO_ELEMENT, "", "")]),
    "MTLS Account Mapping": (["https://api.brand.example/webhooks"], [(NO_ELEMENT, "", "")]),
}

# How often each object type changes, relative to the others: users and skills daily, MTLS settings rarely.
OBJECT_WEIGHTS: dict[str, int] = {
    "Users": 30,
    "Skills": 15,
    "Profiles": 6,
    "Agent Groups": 10,
    "LOBs": 3,
    "Campaigns": 12,
    "Predefined Content": 12,
    "Content Categories": 6,
    "MTLS Certification": 1,
    "MTLS Account Mapping": 1,
}

# The `componentTypes` filter takes component names, records carry the object type's display name. LivePerson
# documents these four component names (the export example); the pairing follows their names. Other object types
# have no documented component name, so the fake knows none: a name it does not know matches no record.
COMPONENT_TYPES: dict[str, str] = {
    "ACUserObject": "Users",
    "ACSkillObject": "Skills",
    "ACProfileObject": "Profiles",
    "ACAgentGroupObject": "Agent Groups",
}
ACTIONS = ("Edit", "Edit", "Edit", "Add new", "Delete")
PEOPLE = [
    ("Alex Admin", "alex.admin", "4123456789", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0", "USER"),
    ("Jordan Ops", "jordan.ops", "4123456790", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1", "SSO"),
    ("Provisioning bot", "provisioning-api", "4123456791", "python-requests/2.32", "OAUTH2"),
    ("Łukasz Wójcik", "lukasz.wojcik", "4123456792", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", "SSO"),
]
LPA = ("LivePerson Admin", "LPA_support_17", "1", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", "LPA")


def make_rng(seed: int) -> random.Random:
    return random.Random(seed)


def make_record(when: datetime, rng: random.Random, lpa: bool = False, automatic: bool = False) -> dict[str, Any]:
    types = sorted(OBJECTS)
    object_type = rng.choices(types, weights=[OBJECT_WEIGHTS[name] for name in types])[0]
    names, changes = OBJECTS[object_type]
    element, old, new = rng.choice(changes)
    action = rng.choice(ACTIONS)
    if action != "Edit":  # an object added or deleted whole: no element, no values
        element, old, new = NO_ELEMENT, "", ""
    who = LPA if lpa else rng.choice(PEOPLE)
    if automatic:
        who = ("Automatic update", "", "", "", "SYSTEM")
    return {
        "accountId": ACCOUNT_ID,
        "objectType": object_type,
        "objectName": rng.choice(names),
        "element": element,
        "oldValue": old,
        "newValue": new,
        "actionType": action,
        "originator": who[0],
        "originatorLoginName": who[1],
        "originatorUserId": who[2],
        "originatorUserAgent": who[3],
        "originatorAuthType": who[4],
        "originatorIsLpa": lpa,
        "timestamp": when.astimezone(UTC).replace(microsecond=0),
        "automatic": automatic,
    }


def burst(when: datetime, count: int, rng: random.Random, identical: bool = True) -> list[dict[str, Any]]:
    """`count` records in one second: identical-looking ones (a bulk edit) or all different."""
    first = make_record(when, rng)
    return [dict(first) if identical else make_record(when, rng) for _ in range(count)]


def bulk_change(when: datetime, count: int, rng: random.Random) -> list[dict[str, Any]]:
    """One bulk change: `count` different records stamped with one second (one admin giving many users a skill at
    once), as many as 1,500, more than the largest page. They differ only in the user changed (objectName)."""
    element, old, new = rng.choice(OBJECTS["Users"][1])
    first = {**make_record(when, rng), "objectType": "Users", "actionType": "Edit", "element": element}
    first.update(oldValue=old, newValue=new)
    return [{**first, "objectName": f"agent {number:05d}"} for number in range(count)]


def generate_backlog(start: datetime, end: datetime, per_day: int, rng: random.Random) -> list[dict[str, Any]]:
    """About `per_day` records a day between start and end, with LPA changes, automatic updates, bursts larger
    than a page, and records on both sides of every midnight (UTC and US/Eastern)."""
    span = (end - start).total_seconds()
    total = max(1, int(per_day * span / 86400))
    records = []
    for _ in range(total):
        when = start + timedelta(seconds=rng.uniform(0, span))
        roll = rng.random()
        records.append(make_record(when, rng, lpa=roll < 0.05, automatic=0.05 <= roll < 0.08))
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        for edge in (day, day + timedelta(hours=5)):  # UTC midnight and US/Eastern midnight (standard time)
            for offset in (-1, 0):
                moment = edge + timedelta(seconds=offset)
                if start <= moment < end:
                    records.extend(burst(moment, rng.randint(2, 4), rng, identical=False))
        noon = day + timedelta(hours=12, minutes=rng.randint(0, 59))
        if start <= noon < end:
            records.extend(burst(noon, 600, rng, identical=True))  # larger than a page of 500
        day += timedelta(days=1)
    return records


def dst_change_records(year: int, rng: random.Random) -> list[dict[str, Any]]:
    """Records around the US/Eastern autumn change (first Sunday of November, 06:00 UTC)."""
    first = datetime(year, 11, 1, tzinfo=UTC)
    sunday = first + timedelta(days=(6 - first.weekday()) % 7)
    change = sunday.replace(hour=6)
    return [make_record(change + timedelta(minutes=minutes), rng) for minutes in (-70, -30, -1, 0, 1, 30, 70)]


def live_traffic(now: datetime, rng: random.Random) -> list[dict[str, Any]]:
    """What arrives during a minute of work, written as it happens: changes at `now`, sometimes a bulk edit in that
    second, and now and then one change committed late (its time a few seconds before others already visible)."""
    records = [make_record(now, rng) for _ in range(rng.randint(3, 20))]
    if rng.random() < 0.5:
        records.extend(burst(now, rng.randint(5, 40), rng, identical=rng.random() < 0.5))
    if rng.random() < 0.3:
        records.append(make_record(now - timedelta(seconds=rng.randint(2, 20)), rng))
    return records
