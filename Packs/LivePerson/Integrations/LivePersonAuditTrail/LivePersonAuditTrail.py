"""LivePerson Audit Trail: collects the LivePerson Conversational Cloud Audit Trail into Cortex XSIAM.

Read top to bottom: constants, errors, settings, the integration-context cache, the Domain API resolver,
authentication (an API key's OAuth 1.0 signature, or an OAuth 2.0 Sentinel token), the GraphQL query builder, the
Audit Trail's schema (learned, not guessed), the page-size learner, the client, records (entries: fingerprint, time,
event line), the key sketch, the cursor (the last-run state), the fetch loop (whole seconds, reconcile, the run), the
commands (with `SendInFlight`, which sends and saves) and main. The Cursor's docstring is the one explanation of how
the collector stays exact.
"""

import base64
import binascii
import concurrent.futures
import contextlib
import email.utils
import functools
import hashlib
import hmac
import itertools
import json
import re
import secrets
import struct
import sys
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

import demistomock as demisto
import pytz
import requests
from CommonServerPython import *
from dateutil.relativedelta import relativedelta

""" CONSTANTS """

VENDOR = "liveperson"
PRODUCT = "liveengage"
INTEGRATION_NAME = "LivePerson Audit Trail"
SENTINEL_SETTING = "Authorization server (Sentinel) host"
# The two ways in (Settings.auth_method): an API key made in Conversational Cloud, whose four values sign each request
# (OAuth 1.0, RFC 5849), or a registered application's client credentials, exchanged at Sentinel for a bearer (OAuth 2.0).
AUTH_API_KEY = "api_key"
AUTH_CLIENT_CREDENTIALS = "client_credentials"
AUTH_METHOD_NAMES = {AUTH_API_KEY: "API key, OAuth 1.0", AUTH_CLIENT_CREDENTIALS: "Sentinel token, OAuth 2.0"}
API_KEY_SETTINGS = ("App key", "Secret", "Access token", "Access token secret")
CLIENT_CREDENTIALS_SETTINGS = ("Client ID", "Client secret")
AUDIT_SERVICE = "accountConfigReadOnly"
SENTINEL_SERVICE = "sentinel"
# The Domain API services the collector looks up, and the integration-context key each one's host is cached under.
SERVICE_CACHE_KEYS = {AUDIT_SERVICE: "audit_host", SENTINEL_SERVICE: "sentinel_host"}

# Every field the Audit Trail documents; actionType is only on some revisions of LivePerson's method page, so the
# client learns whether the server has it (OPTIONAL_FIELDS) and asks without it when it has not.
AUDIT_FIELDS = (
    "accountId",
    "objectType",
    "objectName",
    "element",
    "oldValue",
    "newValue",
    "actionType",
    "originator",
    "originatorLoginName",
    "originatorUserId",
    "originatorUserAgent",
    "originatorAuthType",
    "originatorIsLpa",
    "changeDate",
)
OPTIONAL_FIELDS = ("actionType",)
# The pack's correlation rules whose XQL filters on actionType: without that field they can never fire
# (Tests/test_correlation_rules.py checks this list against the rule files).
ACTION_TYPE_RULES = (
    "LivePerson - Administrator Rights Granted",
    "LivePerson - Mass Deletion Of Users Or Skills",
    "LivePerson - User Password Changed By Another User",
)
TABLE_HEADERS = ["_time", "objectType", "objectName", "element", "oldValue", "newValue", "originatorLoginName", "actionType"]

DEFAULT_DOMAIN_API_URL = "https://api.liveperson.net"
ACCOUNT_ID_PATTERN = re.compile(r"[A-Za-z0-9_]{1,20}")
HOST_PATTERN = re.compile(
    r"(?=.{1,253}(:|$))[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:\d{1,5})?"
)
COMPONENT_TYPE_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
RELATIVE_TIME = re.compile(r"\s*(?P<count>\d{1,6})\s*(?P<unit>second|minute|hour|day|week|month|year)s?(\s+ago)?\s*", re.I)
LETTER_RUN = re.compile(r"[^\W\d_]+")
OPTIONAL_LETTER = re.compile(r"[^\W\d_]\?")
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d{1,6})?)?)?(Z|[+-]\d\d:\d\d)?", re.ASCII)

DEFAULT_FIRST_FETCH = "3 days"  # a new instance shows some history at once (an audit trail is small)
FIRST_FETCH_KEY = "first_fetch_start"  # integration context: the first fetch setting the saved start was fixed with
RESET_LAST_RUN = 'reset the last run (in the instance settings, "Reset the "last run" timestamp")'
RETENTION = relativedelta(months=13)  # LivePerson keeps 13 months of audit data
DEFAULT_MAX_FETCH = 5000
MAX_FETCH_LIMIT = 50000
DEFAULT_PAGE_SIZE = 500
MIN_PAGE_SIZE = 10
MAX_PAGE_SIZE = 1000
LARGEST_PAGE = 2000  # asked for once when one second fills a whole page, to read it in one query if the server allows
# Columns that order the records of one second (after changeTimestamp) when a second is larger than a page: a bulk
# change is one user changing many objects at once, so the object's name tells most apart, then what changed and
# how, then who and what kind of object. Which the server accepts is learned (`TieOrderLearner`).
TIE_COLUMNS = ("objectName", "element", "oldValue", "newValue", "originatorUserId", "objectType")
# A second larger than a page is read until two reads agree, at most this many times: enough for one change landing
# in it while it is read, however timed (a change can spoil the read it lands in and the comparison after it).
READS_OF_A_LARGE_SECOND = 4
DEFAULT_SETTLE_SECONDS = 120  # records younger than this wait for a later run: LivePerson may show a change late
MAX_SETTLE_SECONDS = 900
DEFAULT_API_FIRST = 50  # what LivePerson returns when `first` is not given
DEFAULT_GET_EVENTS_LIMIT = 50
MAX_GET_EVENTS_LIMIT = 1000
DEFAULT_GET_EVENTS_START = "3 days"
# The arguments of liveperson-get-events, as the manifest declares them (a test holds the two together).
GET_EVENTS_ARGUMENTS = ("should_push_events", "limit", "start_time", "end_time")

DOMAIN_CACHE_SECONDS = 4 * 60 * 60  # the account-to-host mapping changes rarely
TOKEN_RENEW_MARGIN_SECONDS = 60
DEFAULT_TOKEN_LIFETIME_SECONDS = 3600
# An OAuth 1.0 signature carries the time it was made: past this difference from LivePerson's clock (its Date header),
# a refused signature is said to be likely the engine's clock. LivePerson does not document its own tolerance.
CLOCK_SKEW_HINT_SECONDS = 60
REQUEST_TIMEOUT_SECONDS = 30
TEST_TIMEOUT_SECONDS = 10  # test-module tries each call once and answers while the user waits
# LivePerson's retry policy: 5xx three times after about 5, 10 and 15 s; 429 after at least 1 s, smoothing traffic.
SERVER_ERROR_PAUSES = (5, 10, 15)
RATE_LIMIT_PAUSES = (1, 2, 4, 8, 15)
RUN_TIME_BUDGET_SECONDS = 150  # a run gives up retrying past this; the next scheduled run resumes
MAX_PAGES_PER_RUN = 1000
RECONCILE_PAGES_PER_RUN = 800  # reconcile's own page budget, under read_seconds' limit: a larger re-read goes on next run
# One send must be one platform chunk (1 MiB): then a failed send leaves nothing half-ingested. The platform's
# chunking counts each line as sys.getsizeof does: for the ASCII lines json.dumps makes, its length plus a fixed overhead.
SEND_BATCH_BYTES = 900_000
LINE_OVERHEAD = sys.getsizeof("")
MAX_BATCH_EVENTS = 10_000  # fewer sends (and saves of the last run) than one a page; the bytes limit comes first
HASH_MODULUS = 2**64
# changeDate in the UTC the collector asks for, as LivePerson writes it: "2024-05-01 13:45:10.0" (fraction optional).
CHANGE_DATE_SHAPE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?", re.ASCII)
WHOLE_SECOND_CHANGE_DATE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.0)?", re.ASCII)

""" ERRORS """


class LivePersonError(Exception):
    """Base of every error this integration raises on purpose; its message is meant for the user."""


class SettingError(LivePersonError):
    """A setting or command argument is wrong: the message names it and says what is expected."""


class ServiceNotFoundError(SettingError):
    """A host answered 404 for a LivePerson service: a wrong host setting, or a cached host that has moved."""


class AuthenticationError(LivePersonError):
    """LivePerson did not accept the API key or the token."""


class AccessDeniedError(LivePersonError):
    """The API key is valid but lacks a permission (403), or the account is blocked (451)."""


class ApiError(LivePersonError):
    """LivePerson answered with an error that retrying will not fix."""


class SchemaError(ApiError):
    """The Audit Trail refuses every way the collector knows to write a query's arguments: its schema is unknown to us."""


class QueryRefusedError(ApiError):
    """The Audit Trail refused the query itself (400, or a GraphQL `errors` member): its arguments, fields or typing.

    Only the fact of the refusal is used to decide what to do next, never the wording of the error (LivePerson's
    backend is not graphql-core)."""


class TransientError(LivePersonError):
    """Rate limiting, server errors or network failures outlasted the retries; the next run resumes."""


class ConnectionFailedError(TransientError):
    """A host could not be reached at all (refused, reset, timed out, TLS or proxy failure)."""


class OutOfTimeError(TransientError):
    """The run's time budget is spent: the run stops where it is, and the next one goes on."""


class ResponseFormatError(LivePersonError):
    """LivePerson answered 200 with something that is not an audit result; never read as "no events"."""


class StateError(LivePersonError):
    """The saved last run cannot be read."""


class AuditTrailShiftedError(LivePersonError):
    """The audit result moved under the cursor (records appeared or went missing before it); handled by `Run.reconcile`."""


class StalledError(LivePersonError):
    """A run could not move the cursor although records are waiting: said loudly, never reported as success."""


""" SETTINGS """


@dataclass(frozen=True)
class AuditFilters:
    """The collection filters of the instance; they select which records the Audit Trail returns."""

    lpa: bool = True
    automatic_updates: bool = False
    component_types: tuple[str, ...] = ()
    users: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApiKey:
    """An API key made in Conversational Cloud (Campaign Builder > Data Sources > API): the OAuth 1.0 consumer (app key
    and secret) and token (access token and its secret) that sign each request."""

    app_key: str = field(repr=False)
    secret: str = field(repr=False)
    access_token: str = field(repr=False)
    access_token_secret: str = field(repr=False)


@dataclass(frozen=True)
class Settings:
    """The instance settings, validated once: every later step can trust them.

    `auth_method` says which way in the instance uses: AUTH_API_KEY (then `api_key` is set and the client credentials
    are empty) or AUTH_CLIENT_CREDENTIALS (the other way round). `sentinel_host` None means "find it": the account's
    sentinel service, through the Domain API; an API key never uses Sentinel.
    """

    account_id: str
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    sentinel_host: str | None = None
    domain_api_url: str = DEFAULT_DOMAIN_API_URL
    verify: bool = True
    proxy: bool = False
    first_fetch: datetime = field(default_factory=lambda: parse_first_fetch(None, utc_now()))
    first_fetch_setting: str = DEFAULT_FIRST_FETCH  # as typed: a relative one gives another time on every run
    max_fetch: int = DEFAULT_MAX_FETCH
    page_size: int = DEFAULT_PAGE_SIZE
    settle_seconds: int = DEFAULT_SETTLE_SECONDS
    filters: AuditFilters = AuditFilters()
    auth_method: str = AUTH_CLIENT_CREDENTIALS
    api_key: ApiKey | None = None

    def __post_init__(self) -> None:
        client_credentials = bool(self.client_id and self.client_secret)
        if self.auth_method == AUTH_API_KEY and (self.api_key is None or client_credentials):
            raise ValueError("Settings: an API key instance needs api_key and no client credentials")
        if self.auth_method == AUTH_CLIENT_CREDENTIALS and (self.api_key is not None or not client_credentials):
            raise ValueError("Settings: a client credentials instance needs client_id and client_secret and no api_key")

    @classmethod
    def from_params(cls, params: dict[str, Any], now: datetime | None = None) -> "Settings":
        now = now or utc_now()
        account_id = parse_account_id(params.get("account_id"))  # named first: a new instance misses it first
        auth_method, client_id, client_secret, api_key = parse_auth(params)
        return cls(
            account_id=account_id,
            auth_method=auth_method,
            client_id=client_id,
            client_secret=client_secret,
            api_key=api_key,
            sentinel_host=parse_optional_host(params.get("auth_server_url"), SENTINEL_SETTING),
            domain_api_url=parse_https_url(params.get("domain_api_url") or DEFAULT_DOMAIN_API_URL, "Domain API URL"),
            verify=not parse_bool(params.get("insecure"), "Trust any certificate (not secure)", False),
            proxy=parse_bool(params.get("proxy"), "Use system proxy settings", False),
            first_fetch=parse_first_fetch(params.get("first_fetch"), now),
            first_fetch_setting=DEFAULT_FIRST_FETCH
            if _is_blank(params.get("first_fetch"))
            else str(params["first_fetch"]).strip(),
            max_fetch=parse_int(
                params.get("max_fetch"), "Maximum number of events per fetch", DEFAULT_MAX_FETCH, 1, MAX_FETCH_LIMIT
            ),
            page_size=parse_int(params.get("page_size"), "Page size", DEFAULT_PAGE_SIZE, MIN_PAGE_SIZE, MAX_PAGE_SIZE),
            settle_seconds=parse_int(
                params.get("settle_seconds"), "Settle delay (seconds)", DEFAULT_SETTLE_SECONDS, 0, MAX_SETTLE_SECONDS
            ),
            filters=AuditFilters(
                lpa=parse_bool(params.get("lpa"), "Include changes made by LivePerson administrators (LPA)", True),
                automatic_updates=parse_bool(params.get("automatic_updates"), "Include automatic updates", False),
                component_types=parse_list(params.get("component_types"), "Component types", COMPONENT_TYPE_PATTERN),
                users=parse_list(params.get("users"), "Users"),
            ),
        )


def credentials_param(params: dict[str, Any], name: str = "credentials") -> dict[str, Any]:
    """A credentials parameter (type 9) as {"identifier": ..., "password": ...}: `credentials` (Client ID / Client
    secret), `api_key_credentials` (App key / Secret) or `access_token_credentials` (Access token / Access token secret)."""
    credentials = params.get(name)
    return credentials if isinstance(credentials, dict) else {}


def secret_values(params: dict[str, Any]) -> list[str]:
    """Every credential value the instance holds (both halves of each credentials parameter), to redact from messages."""
    names = ("credentials", "api_key_credentials", "access_token_credentials")
    values = [credentials_param(params, name).get(half) for name in names for half in ("identifier", "password")]
    return [value.strip() for value in values if isinstance(value, str) and value.strip()]


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def parse_auth(params: dict[str, Any]) -> tuple[str, str, str, ApiKey | None]:
    """Which way in the instance uses, from whichever set of credentials is filled in: (auth_method, client ID,
    client secret, API key). Both sets, part of a set, or neither is refused, naming the settings."""
    client = credentials_param(params, "credentials")
    key, token = credentials_param(params, "api_key_credentials"), credentials_param(params, "access_token_credentials")
    api_values = dict(
        zip(
            API_KEY_SETTINGS,
            (key.get("identifier"), key.get("password"), token.get("identifier"), token.get("password")),
            strict=True,
        )
    )
    client_values = dict(zip(CLIENT_CREDENTIALS_SETTINGS, (client.get("identifier"), client.get("password")), strict=True))
    api_given = [name for name, value in api_values.items() if not _is_blank(value)]
    client_given = [name for name, value in client_values.items() if not _is_blank(value)]
    if api_given and client_given:
        raise SettingError(
            f"Both an API key ({_quoted(api_given)}) and client credentials ({_quoted(client_given)}) are filled in: "
            f"use one way in. Clear {_quoted(CLIENT_CREDENTIALS_SETTINGS)} to use the API key (OAuth 1.0), or "
            f"{_quoted(API_KEY_SETTINGS)} to use the client credentials (OAuth 2.0)."
        )
    if api_given:
        for name, value in api_values.items():
            if _is_blank(value) or not isinstance(value, str):
                raise SettingError(
                    f'"{name}" is empty: an API key is four values, {_quoted(API_KEY_SETTINGS)}; fill in all four '
                    "as Conversational Cloud showed them when the key was made."
                )
        app_key, secret, access_token, access_token_secret = (str(value).strip() for value in api_values.values())
        return AUTH_API_KEY, "", "", ApiKey(app_key, secret, access_token, access_token_secret)
    if not client_given:
        raise SettingError(
            f"No credentials: fill in either an API key ({_quoted(API_KEY_SETTINGS)}) or the client credentials of "
            f"a registered application ({_quoted(CLIENT_CREDENTIALS_SETTINGS)})."
        )
    client_id = parse_required_text(client_values["Client ID"], "Client ID")
    client_secret = parse_required_text(client_values["Client secret"], "Client secret")
    return AUTH_CLIENT_CREDENTIALS, client_id, client_secret, None


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_required_text(value: Any, name: str) -> str:
    if _is_blank(value) or not isinstance(value, str):
        raise SettingError(f'"{name}" is empty: fill it in the instance settings.')
    return value.strip()


def parse_account_id(value: Any) -> str:
    account_id = parse_required_text(value, "Account ID")
    if not ACCOUNT_ID_PATTERN.fullmatch(account_id):
        raise SettingError(
            f'"Account ID" must be 1 to 20 letters, digits or underscores (your LivePerson site ID), not "{account_id}".'
        )
    return account_id


def parse_host(value: Any, name: str) -> str:
    """A bare host name (with an optional port), given with or without an https:// prefix."""
    text = parse_required_text(value, name)
    scheme, separator, rest = text.partition("://")
    scheme = scheme.lower() if separator else ""
    if scheme == "http":
        raise SettingError(
            f'"{name}" must use https://, not http://: give the host alone, for example va.sentinel.liveperson.net.'
        )
    host = (rest if scheme == "https" else text).rstrip("/")
    if not HOST_PATTERN.fullmatch(host):
        raise SettingError(
            f'"{name}" must be a host name such as va.sentinel.liveperson.net, without a path, query or spaces; got "{text}".'
        )
    return host


def parse_optional_host(value: Any, name: str) -> str | None:
    """A host as parse_host reads it, or None when the setting is left empty."""
    return None if _is_blank(value) else parse_host(value, name)


def parse_https_url(value: Any, name: str) -> str:
    """An https:// URL made of a scheme and a host only, returned without a trailing slash."""
    text = parse_required_text(value, name)
    parsed = urllib.parse.urlsplit(text)
    if parsed.scheme.lower() != "https" or parsed.path.strip("/") or parsed.query or parsed.fragment:
        raise SettingError(
            f'"{name}" must be an https:// address with no path, for example {DEFAULT_DOMAIN_API_URL}; got "{text}".'
        )
    return f"https://{parse_host(parsed.netloc, name)}"


def parse_bool(value: Any, name: str, default: bool) -> bool:
    if _is_blank(value):
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise SettingError(f'"{name}" must be true or false, not "{value}".')


def parse_int(value: Any, name: str, default: int, low: int, high: int) -> int:
    if _is_blank(value):
        return default
    text = str(value).strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        raise SettingError(f'"{name}" must be a whole number from {low} to {high}, not "{value}".')
    number = int(text)
    if not low <= number <= high:
        raise SettingError(f'"{name}" must be from {low} to {high}, not {number}.')
    return number


def parse_list(value: Any, name: str, pattern: re.Pattern[str] | None = None) -> tuple[str, ...]:
    """A comma-separated list; an empty item (",,", a trailing comma) is refused rather than guessed at."""
    if _is_blank(value):
        return ()
    items = value if isinstance(value, list) else str(value).split(",")
    cleaned = tuple(str(item).strip() for item in items)
    for position, item in enumerate(cleaned, start=1):
        if not item:
            raise SettingError(f'"{name}" has an empty item (number {position}): give a comma-separated list with no blanks.')
        if pattern is not None and not pattern.fullmatch(item):
            raise SettingError(f'"{name}" has an invalid item "{item}": use names such as ACUserObject or ACSkillObject.')
    return cleaned


def parse_time(value: Any, name: str, now: datetime) -> datetime:
    """A time the platform's way ("3 days", "2 hours", an ISO 8601 date or an epoch), as an aware UTC datetime."""
    text = parse_required_text(str(value) if isinstance(value, int | float) else value, name)
    parsed = quick_time(text, now)
    if parsed is None and not dateparser_could_read(text):
        raise SettingError(f'"{name}" is not a time: "{text}". Use for example 3 days, 12 hours or 2024-05-01T00:00:00Z.')
    if parsed is None:
        try:
            parsed = arg_to_datetime(text, arg_name=name, is_utc=True, required=True)
        except Exception as error:
            raise SettingError(
                f'"{name}" is not a time: "{text}". Use for example 3 days, 12 hours or 2024-05-01T00:00:00Z.'
            ) from error
    if parsed is None:
        raise SettingError(f'"{name}" is not a time: "{text}". Use for example 3 days, 12 hours or 2024-05-01T00:00:00Z.')
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    if parsed > now + timedelta(minutes=5):
        raise SettingError(f'"{name}" is in the future ({format_time(parsed)}): give a time in the past.')
    return parsed


def quick_time(text: str, now: datetime) -> datetime | None:
    """What the platform's `arg_to_datetime` makes of the two usual shapes, "3 days" (ago) and ISO 8601, read here
    because its dateparser spends tens of milliseconds loading its languages in every run that asks; None otherwise.
    A relative time counts back from `now`, the module's one clock."""
    with contextlib.suppress(ValueError, OverflowError):  # out of range: the platform's reading decides
        if match := RELATIVE_TIME.fullmatch(text):
            units: dict[str, Any] = {f"{match['unit'].lower()}s": int(match["count"])}
            return now - relativedelta(**units)
        if ISO_TIME.fullmatch(text):
            return datetime.fromisoformat(text)
    return None


def dateparser_could_read(text: str) -> bool:
    """False only when dateparser, which the platform's `arg_to_datetime` asks, finds no time in `text` in any of its
    languages; True when it might (then dateparser itself decides).

    Asked about text it cannot read, dateparser tries each of its 200 languages in turn and builds each one's word
    splitter first: about 2.5 s before "garbage" is refused. A language applies to a text only if the text, simplified
    as that language simplifies it, splits into tokens that are digits, its words or its relative phrases. So a text
    whose simplified form has no digit and whose letters cannot be pieced together from the letter runs of a
    language's words and phrases is not read in that language. This checks that for every language with dateparser's
    own data and steps (about 0.3 s, no splitter built); with a dateparser whose inner parts differ, it says True.
    """
    try:
        variants, languages = _dateparser_variants(text), _dateparser_languages()
        return any(_language_could_read(variants, *language) for language in languages)
    except Exception as error:  # another dateparser: let it decide, however long that takes
        demisto.debug(f"Could not pre-check a time with dateparser's data ({type(error).__name__}); asking dateparser.")
        return True


def _dateparser_variants(text: str) -> set[str]:
    """The text as dateparser reads it: sanitised, with and without a time zone name (it tries both)."""
    from dateparser.date import sanitize_date  # noqa: PLC0415 - dateparser's inner parts, read only on this path
    from dateparser.timezone_parser import pop_tz_offset_from_string  # noqa: PLC0415

    sanitized = sanitize_date(text)
    return {sanitized, pop_tz_offset_from_string(sanitized, as_offset=False)[0]}


@functools.cache
def _dateparser_languages() -> tuple[tuple[Any, frozenset[str], Any], ...]:
    """Per dateparser language, with dateparser's default settings (as `arg_to_datetime` leaves them): its locale, the
    letter runs of its words and relative phrases, and the settings."""
    from dateparser.conf import Settings as DateparserSettings  # noqa: PLC0415
    from dateparser.languages.loader import default_loader  # noqa: PLC0415

    settings = DateparserSettings()
    languages = []
    for locale in default_loader.get_locales():
        dictionary = locale._get_dictionary(settings)
        words = [*dictionary._dictionary, *settings.SKIP_TOKENS]
        # Relative phrases are patterns: "days?" reads "day" and "days", so each optional letter is dropped once too.
        phrases = [*dictionary._relative_strings, *(OPTIONAL_LETTER.sub("", phrase) for phrase in dictionary._relative_strings)]
        runs = frozenset(run for text in [*words, *phrases] if text for run in LETTER_RUN.findall(str(text).lower()))
        languages.append((locale, runs, settings))
    return tuple(languages)


def _language_could_read(variants: set[str], locale: Any, runs: frozenset[str], settings: Any) -> bool:
    """Whether one dateparser language might apply: a digit once simplified its way, or letters made of its runs."""
    from dateparser.utils import normalize_unicode  # noqa: PLC0415

    for variant in variants:  # as Locale.is_applicable reads it, up to the split
        simplified = locale._simplify(normalize_unicode(locale._translate_numerals(variant)), settings=settings).lower()
        if any(character.isdigit() for character in simplified):
            return True
        letters = LETTER_RUN.findall(simplified)
        if letters and all(_pieced_together(run, runs) for run in letters):
            return True
    return False


def _pieced_together(word: str, runs: frozenset[str]) -> bool:
    """Whether `word` is a concatenation of `runs` (dateparser splits a word where a known word starts or ends)."""
    reachable = [True] + [False] * len(word)
    for end in range(1, len(word) + 1):
        reachable[end] = any(reachable[start] and word[start:end] in runs for start in range(end))
    return reachable[-1]


def parse_first_fetch(value: Any, now: datetime) -> datetime:
    since = parse_time(DEFAULT_FIRST_FETCH if _is_blank(value) else value, "First fetch time", now)
    oldest = now - RETENTION
    if since < oldest:
        demisto.info(f"First fetch time {format_time(since)} is older than LivePerson keeps; starting at {format_time(oldest)}.")
        return oldest
    return since


def utc_now() -> datetime:
    """Now, from `time.time()`: the one clock the module reads (the platform's tests move it)."""
    return datetime.fromtimestamp(time.time(), UTC)


class _LastFormatted:
    """The last time `format_time` wrote: records come in time order, so one second is asked for again and again."""

    moment: datetime | None = None
    text = ""


def format_time(moment: datetime) -> str:
    """UTC ISO 8601 with a Z, with fractions only when there are any."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    if moment == _LastFormatted.moment:
        return _LastFormatted.text
    if moment.year < 1000:
        text = _strftime_time(moment)  # strftime does not pad such years to four digits everywhere: keep its spelling
    else:
        text = moment.isoformat()[:-6]  # isoformat without its "+00:00"; a fraction, when there is one, has six digits
        text = (text.rstrip("0") if moment.microsecond else text) + "Z"
    _LastFormatted.moment, _LastFormatted.text = moment, text
    return text


def _strftime_time(moment: datetime) -> str:
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


""" INTEGRATION CONTEXT CACHE """


class ContextCache:
    """Expiring entries kept in the integration context, which the platform keeps between runs of the instance.

    Each entry carries a scope (for example the account it belongs to), so a changed setting never reuses an entry.
    """

    def get(self, key: str, scope: str) -> Any:
        entry = demisto.getIntegrationContext().get(key)
        if not isinstance(entry, dict) or entry.get("scope") != scope:
            return None
        if entry.get("expires_at", 0) <= time.time():
            return None
        return entry.get("value")

    def put(self, key: str, scope: str, value: Any, expires_at: float) -> None:
        context = demisto.getIntegrationContext()
        context[key] = {"scope": scope, "value": value, "expires_at": expires_at}
        demisto.setIntegrationContext(context)


""" DOMAIN API RESOLVER """


class DomainResolver:
    """Finds where the account's LivePerson services live through LivePerson's Domain API, cached for hours per service."""

    def __init__(self, domain_api_url: str, account_id: str, cache: ContextCache, get_json: Callable[[str, str], dict]):
        self._services_url = f"{domain_api_url}/api/account/{urllib.parse.quote(account_id)}/service"
        self._scope = f"{domain_api_url}|{account_id}"
        self._cache = cache
        self._get_json = get_json
        self._asked_this_run: set[str] = set()

    def host(self, service: str) -> tuple[str, bool]:
        """The service's host, and whether it may be stale: cached by an earlier run, not asked for by this one."""
        cached = self._cache.get(SERVICE_CACHE_KEYS[service], self._scope)
        if isinstance(cached, str) and cached:
            return cached, service not in self._asked_this_run
        return self.refresh(service), False

    def audit_host(self) -> tuple[str, bool]:
        return self.host(AUDIT_SERVICE)

    def refresh(self, service: str = AUDIT_SERVICE) -> str:
        """Asks the Domain API afresh and caches the answer."""
        answer = self._get_json(f"{self._services_url}/{service}/baseURI.json?version=1.0", service)
        host = answer.get("baseURI") if isinstance(answer, dict) else None
        if not isinstance(host, str) or not HOST_PATTERN.fullmatch(host):
            raise ResponseFormatError(f"The Domain API did not give a host for the {service} service of the account.")
        self._cache.put(SERVICE_CACHE_KEYS[service], self._scope, host, time.time() + DOMAIN_CACHE_SECONDS)
        self._asked_this_run.add(service)
        return host


""" AUTHENTICATION """

# One thing authorises an Audit Trail request, chosen from Settings.auth_method by `make_authorizer`:
#   - an API key: `ApiKeySigner` signs each attempt afresh with OAuth 1.0 HMAC-SHA1 (RFC 5849), written here because
#     the platform's image has no OAuth library; Sentinel is never asked.
#   - client credentials: `TokenProvider` gets a bearer from Sentinel (OAuth 2.0) and caches it.
# Both give the client the same four things: `name` (what test-module says), `auth()` (a requests auth object for the
# next request: requests calls it on every attempt), `after_refusal()` (before the one retry a 401 gets) and
# `refused(response)` (the error when the retry is refused too).


def scope_hash(secret: str, *public: str) -> str:
    """A keyed hash of a secret for a cache scope: HMAC-SHA256 keyed with the secret over the scope's public parts.

    A changed secret changes the scope at once (a token made with the old one is never used again), while the
    integration context holds neither the secret nor a plain hash of it that could be looked up."""
    return hmac.new(secret.encode(), "|".join(public).encode(), hashlib.sha256).hexdigest()[:32]


def oauth_encode(value: str) -> str:
    """RFC 5849 section 3.6: the UTF-8 bytes, each but ALPHA, DIGIT, "-", ".", "_" and "~" as %XX (upper case hex)."""
    return urllib.parse.quote(value, safe="-._~")


def base_string_uri(url: str) -> str:
    """RFC 5849 section 3.4.1.2: scheme and host in lower case, the port only when not the scheme's default, the path;
    no query, no fragment."""
    parts = urllib.parse.urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal keeps its brackets
    default_port = {"http": 80, "https": 443}.get(scheme)
    port = f":{parts.port}" if parts.port is not None and parts.port != default_port else ""
    return f"{scheme}://{host}{port}{parts.path or '/'}"


def signature_base_string(method: str, url: str, oauth_params: dict[str, str]) -> str:
    """RFC 5849 section 3.4.1: the method, the base string URI and the normalised parameters (the URL's query and the
    oauth_ protocol parameters; the JSON body is not form-encoded, so it is not signed), each percent-encoded."""
    query = urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True)
    pairs = sorted((oauth_encode(name), oauth_encode(value)) for name, value in [*query, *oauth_params.items()])
    normalized = "&".join(f"{name}={value}" for name, value in pairs)
    return "&".join(oauth_encode(part) for part in (method.upper(), base_string_uri(url), normalized))


def hmac_sha1_signature(base_string: str, consumer_secret: str, token_secret: str) -> str:
    """RFC 5849 section 3.4.2: HMAC-SHA1 keyed with both secrets, each percent-encoded, joined by "&"; in base64."""
    key = f"{oauth_encode(consumer_secret)}&{oauth_encode(token_secret)}"
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class ApiKeySigner(requests.auth.AuthBase):
    """Signs each request with the API key (OAuth 1.0, HMAC-SHA1, RFC 5849) in an `Authorization: OAuth ...` header.

    requests calls it as it prepares each attempt, so every attempt, retries included, gets its own nonce and
    timestamp: LivePerson may refuse a nonce it has seen, or a timestamp far from its clock."""

    name = AUTH_METHOD_NAMES[AUTH_API_KEY]

    def __init__(self, key: ApiKey):
        self._key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self.header(request.method or "GET", request.url or "")
        return request

    def header(self, method: str, url: str) -> str:
        oauth_params = {
            "oauth_consumer_key": self._key.app_key,
            "oauth_nonce": secrets.token_hex(16),
            "oauth_signature_method": "HMAC-SHA1",
            "oauth_timestamp": str(int(time.time())),
            "oauth_token": self._key.access_token,
            "oauth_version": "1.0",
        }
        base_string = signature_base_string(method, url, oauth_params)
        oauth_params["oauth_signature"] = hmac_sha1_signature(base_string, self._key.secret, self._key.access_token_secret)
        return "OAuth " + ", ".join(f'{name}="{oauth_encode(value)}"' for name, value in oauth_params.items())

    def auth(self) -> requests.auth.AuthBase:
        return self

    def after_refusal(self) -> None:
        """Nothing to renew: the retry is signed afresh, with a new nonce and the time now."""

    def refused(self, response: requests.Response) -> AuthenticationError:
        skew = clock_skew(response)
        if skew is not None and abs(skew) > CLOCK_SKEW_HINT_SECONDS:
            way = "ahead of" if skew > 0 else "behind"
            return AuthenticationError(
                f"LivePerson refused the API key's signature twice (401), and this engine's clock is {abs(skew):.0f} s "
                f"{way} LivePerson's (the Date of its answer): an OAuth 1.0 signature carries the time it was made, so "
                "check the engine's clock (its time synchronisation) first, then the four API key values."
            )
        unknown = " (its answer had no Date header to compare the engine's clock with)" if skew is None else ""
        return AuthenticationError(
            f"LivePerson refused the API key twice (401), each time freshly signed{unknown}: check {_quoted(API_KEY_SETTINGS)} "
            "(copied whole from Campaign Builder > Data Sources > API), that the key is enabled, and the engine's clock."
        )


def clock_skew(response: requests.Response) -> float | None:
    """Seconds this engine's clock is ahead of the server's (negative: behind), from the answer's Date header (whole
    seconds); None when there is no readable Date."""
    text = response.headers.get("Date", "")
    try:
        served = email.utils.parsedate_to_datetime(text) if text else None
    except (TypeError, ValueError):
        return None
    if served is None or served.tzinfo is None:
        return None
    return time.time() - served.timestamp()


class BearerToken(requests.auth.AuthBase):
    """An `Authorization: Bearer ...` header (OAuth 2.0)."""

    def __init__(self, token: str):
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


def token_lifetime(answer: dict[str, Any], token: str) -> float:
    """Seconds a new token lives: `expires_in` (number or string), else the JWT's own `exp`, else an hour."""
    expires_in = answer.get("expires_in")
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool) and expires_in > 0:
        return float(expires_in)
    if isinstance(expires_in, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*", expires_in) and float(expires_in) > 0:
        return float(expires_in)
    expiry = jwt_expiry(token)
    if expiry is not None and expiry > time.time():
        return expiry - time.time()
    return DEFAULT_TOKEN_LIFETIME_SECONDS


def jwt_expiry(token: str) -> float | None:
    """The `exp` claim of a JWT (read, not verified: it only tells when to renew), or None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    expiry = payload.get("exp") if isinstance(payload, dict) else None
    return float(expiry) if isinstance(expiry, int | float) and not isinstance(expiry, bool) else None


class TokenProvider:
    """Bearer tokens from LivePerson Sentinel (OAuth 2.0 client credentials), cached until shortly before expiry.

    Sentinel's host is the one the instance sets, or else the account's sentinel service found through the Domain API.
    """

    CACHE_KEY = "access_token"
    name = AUTH_METHOD_NAMES[AUTH_CLIENT_CREDENTIALS]

    def __init__(
        self,
        settings: Settings,
        cache: ContextCache,
        resolver: DomainResolver,
        post_form: Callable[[str, dict[str, str], bool], dict],
    ):
        self._given_host = settings.sentinel_host
        self._account = urllib.parse.quote(settings.account_id)
        # A token does not depend on which Sentinel host issued it, so a discovered host is left out of the scope:
        # steady runs then never need the Domain API. The secret is in it as a keyed hash: a changed secret is seen at
        # once, not when the token made with the old one expires.
        public = (settings.sentinel_host or SENTINEL_SERVICE, settings.account_id, settings.client_id)
        self._scope = "|".join((*public, scope_hash(settings.client_secret, *public)))
        self._form = {
            "client_id": settings.client_id,
            "client_secret": settings.client_secret,
            "grant_type": "client_credentials",
        }
        self._cache = cache
        self._resolver = resolver
        self._post_form = post_form

    def host(self) -> tuple[str, bool]:
        """Sentinel's host, and whether it is a cached Domain API answer (which may be stale)."""
        if self._given_host:
            return self._given_host, False
        return self._resolver.host(SENTINEL_SERVICE)

    def bearer(self) -> str:
        cached = self._cache.get(self.CACHE_KEY, self._scope)
        return cached if isinstance(cached, str) and cached else self.renew()

    def renew(self) -> str:
        host, from_cache = self.host()
        try:
            answer = self._post_form(self._token_url(host), self._form, not from_cache)
        except (ConnectionFailedError, ServiceNotFoundError):
            if not from_cache:
                raise
            # A cached host that cannot be reached, or no longer serves tokens, may have moved: ask once more.
            answer = self._post_form(self._token_url(self._resolver.refresh(SENTINEL_SERVICE)), self._form, True)
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token.strip():
            raise ResponseFormatError("LivePerson Sentinel answered without an access_token.")
        expires_at = time.time() + token_lifetime(answer, token) - TOKEN_RENEW_MARGIN_SECONDS
        self._cache.put(self.CACHE_KEY, self._scope, token, expires_at)
        return token

    def _token_url(self, host: str) -> str:
        return f"https://{host}/sentinel/api/v2/account/{self._account}/app/token"

    def auth(self) -> requests.auth.AuthBase:
        return BearerToken(self.bearer())

    def after_refusal(self) -> None:
        """The token expired or was revoked: a new one, once."""
        self.renew()

    def refused(self, response: requests.Response) -> AuthenticationError:
        return AuthenticationError(
            "LivePerson refused the access token twice (401), the second one just issued: check that the application "
            'of "Client ID" is enabled and not revoked.'
        )


Authorizer = ApiKeySigner | TokenProvider


def make_authorizer(
    settings: Settings, cache: ContextCache, resolver: DomainResolver, post_form: Callable[[str, dict[str, str], bool], dict]
) -> Authorizer:
    """What authorises the instance's Audit Trail requests, from its settings."""
    if settings.auth_method == AUTH_API_KEY and settings.api_key is not None:
        return ApiKeySigner(settings.api_key)
    return TokenProvider(settings, cache, resolver, post_form)


""" GRAPHQL QUERY BUILDER """


@dataclass(frozen=True)
class AuditQuery:
    """The arguments of one `auditData` query; None leaves an argument to LivePerson's default."""

    from_date: date | None = None
    to_date: date | None = None
    first: int | None = None
    offset: int | None = None
    order_by: tuple[str, ...] = ("changeTimestamp",)
    order_direction: tuple[str, ...] = ("ASC",)
    users: tuple[str, ...] = ()
    component_types: tuple[str, ...] = ()
    language: str | None = None
    timezone: str | None = "UTC"
    lpa: bool | None = None
    automatic_updates: bool | None = None
    fields: tuple[str, ...] = AUDIT_FIELDS


# How an argument the documentation calls a "list" may be typed, in the order they are tried: a list of strings (as
# the documentation's example writes it), a list of enum values, a plain string, a plain enum value. GraphQL takes a
# single value where a list is expected, so a list typing is tried first: it is the one that carries several values.
TYPINGS = {"strings": "a list of strings", "enums": "a list of enums", "string": "a string", "enum": "an enum"}
SINGLE_VALUE_TYPINGS = ("string", "enum")
GRAPHQL_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")


@dataclass(frozen=True)
class AuditSchema:
    """How the Audit Trail's schema wants a query written: each typed argument's typing (a key of TYPINGS; None when
    it was not learned because the instance never sends it) and the optional fields it does not have.

    The default is the documentation's own reading: lists of strings, every field. `fromDate` is always written as a
    "yyyy-MM-dd" string literal, which a String and a date scalar both take, so it has no typing to learn.
    """

    order_by: str = "strings"
    order_direction: str = "strings"
    component_types: str | None = "strings"
    absent_fields: tuple[str, ...] = ()

    @property
    def order_columns_allowed(self) -> int | None:
        """How many orderBy columns a query can carry: 1 when orderBy or orderDirection takes a single value, else no limit."""
        return 1 if {self.order_by, self.order_direction} & set(SINGLE_VALUE_TYPINGS) else None

    def describe(self) -> str:
        """The typings in a few words, for the log: "orderBy a list of strings, orderDirection an enum, ..."."""
        typings = [("orderBy", self.order_by), ("orderDirection", self.order_direction), ("componentTypes", self.component_types)]
        parts = [f"{name} {TYPINGS[typing]}" for name, typing in typings if typing]
        parts.append("fromDate a string")
        parts += [f"{name} {'absent' if name in self.absent_fields else 'present'}" for name in OPTIONAL_FIELDS]
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "orderBy": self.order_by,
            "orderDirection": self.order_direction,
            "componentTypes": self.component_types,
            "absentFields": list(self.absent_fields),
        }

    @classmethod
    def from_json(cls, saved: Any) -> "AuditSchema | None":
        """The schema saved by to_json, or None if what was saved is not one (then it is learned again)."""
        if not isinstance(saved, dict):
            return None
        typings = [saved.get("orderBy"), saved.get("orderDirection"), saved.get("componentTypes")]
        absent = saved.get("absentFields")
        if typings[0] not in TYPINGS or typings[1] not in TYPINGS or typings[2] not in (*TYPINGS, None):
            return None
        if not isinstance(absent, list) or not set(absent) <= set(OPTIONAL_FIELDS):
            return None
        return cls(typings[0], typings[1], typings[2], tuple(absent))


DOCUMENTED_SCHEMA = AuditSchema()  # lists of strings, every field: how the documentation's example writes a query


def graphql_value(value: Any) -> str:
    """A GraphQL literal: JSON's string escapes are valid GraphQL string escapes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):
        return json.dumps(value.isoformat())
    if isinstance(value, list | tuple):
        return "[" + ", ".join(graphql_value(item) for item in value) + "]"
    return json.dumps(str(value))


def typed_value(values: Sequence[str], typing: str) -> str:
    """The GraphQL literal of `values` under a typing (a key of TYPINGS). A single-value typing takes exactly one."""
    enum = typing in ("enums", "enum")
    if enum and not all(GRAPHQL_NAME.fullmatch(value) and value not in ("true", "false", "null") for value in values):
        raise ValueError(f"{list(values)} cannot be written as enum values")
    items = [value if enum else json.dumps(value) for value in values]
    if typing in SINGLE_VALUE_TYPINGS:
        if len(items) != 1:
            raise ValueError(f"{TYPINGS[typing]} takes one value, not {len(items)}")
        return items[0]
    return "[" + ", ".join(items) + "]"


def build_audit_query(query: AuditQuery, schema: AuditSchema = DOCUMENTED_SCHEMA) -> dict[str, str]:
    """The request body of an Audit Trail call, written as `schema` says: {"query": "{auditData(...) {fields}}"}."""
    component_typing = schema.component_types or "strings"
    if query.component_types and component_typing in SINGLE_VALUE_TYPINGS and len(query.component_types) > 1:
        raise SettingError(
            f'"Component types": this account\'s Audit Trail takes one component type a query (componentTypes is '
            f"{TYPINGS[component_typing]}), and {len(query.component_types)} are set. Set one, or leave it empty."
        )
    typed = {
        "orderBy": (query.order_by, schema.order_by),
        "orderDirection": (query.order_direction, schema.order_direction),
        "componentTypes": (query.component_types, component_typing),
    }
    arguments = {
        "fromDate": graphql_value(query.from_date) if query.from_date else None,
        "toDate": graphql_value(query.to_date) if query.to_date else None,
        "first": graphql_value(query.first) if query.first is not None else None,
        "offset": graphql_value(query.offset) if query.offset is not None else None,
        **{name: typed_value(values, typing) if values else None for name, (values, typing) in typed.items()},
        "users": graphql_value(query.users) if query.users else None,
        "language": graphql_value(query.language) if query.language is not None else None,
        "timezone": graphql_value(query.timezone) if query.timezone is not None else None,
        "lpa": graphql_value(query.lpa) if query.lpa is not None else None,
        "automaticUpdates": graphql_value(query.automatic_updates) if query.automatic_updates is not None else None,
    }
    rendered = ", ".join(f"{name}: {value}" for name, value in arguments.items() if value is not None)
    selection = " ".join(name for name in query.fields if name not in schema.absent_fields)
    head = f"auditData({rendered})" if rendered else "auditData"
    return {"query": f"{{{head} {{{selection}}}}}"}


""" AUDIT TRAIL SCHEMA """

# The smallest query there is: if the Audit Trail refuses this, no query can work.
MINIMAL_QUERY = "{auditData(first: 1) {changeDate}}"
# One introspection query for what the collector needs: auditData's arguments and the fields of what it returns.
_TYPE_REF = "kind name enumValues {name} fields {name}"
INTROSPECTION_QUERY = (
    "{__schema {queryType {fields {name args {name type {"
    + _TYPE_REF
    + " ofType {"
    + _TYPE_REF
    + " ofType {"
    + _TYPE_REF
    + "}}}} type {"
    + _TYPE_REF
    + " ofType {"
    + _TYPE_REF
    + " ofType {"
    + _TYPE_REF
    + " ofType {"
    + _TYPE_REF
    + "}}}}}}}}"
)
# The one value each typed argument is tried with while learning.
PROBE_VALUES = {"orderBy": ("changeTimestamp",), "orderDirection": ("ASC",)}


def probe_query(argument: str = "", value: str = "", fields: Sequence[str] = ("changeDate",)) -> str:
    """A query of one record with at most one argument besides `first`: the one unknown a learning step asks about."""
    rendered = f", {argument}: {value}" if argument else ""
    return f"{{auditData(first: 1{rendered}) {{{' '.join(fields)}}}}}"


def require_minimal_query(accepts: Callable[[str], bool]) -> None:
    """The first step of learning: the smallest query must be answered, or no query can be. `accepts(text)` asks a
    query and says whether the Audit Trail answered it (False only when it refused it, whatever the wording)."""
    if not (accepts(MINIMAL_QUERY) or accepts(MINIMAL_QUERY)):  # asked twice: one refusal may be passing
        raise SchemaError(
            f"The Audit Trail refused even the smallest query ({MINIMAL_QUERY}), twice: it does not answer as LivePerson "
            "documents it. Check that the account has the Audit Trail, and tell LivePerson support."
        )


def learn_schema(accepts: Callable[[str], bool], component_types: tuple[str, ...], today: date) -> AuditSchema:
    """Learns the schema by asking, one unknown per query, once the minimal query was answered: each typed argument
    alone, in each typing of TYPINGS in turn (`componentTypes` only when the instance filters on it, with its first
    type); then `fromDate` as a string; then each optional field (asked twice before it is taken for absent, since
    its absence silences rules). `accepts` is as for require_minimal_query: the wording of a refusal is never read."""
    values = {**PROBE_VALUES, **({"componentTypes": component_types[:1]} if component_types else {})}
    learned: dict[str, str | None] = {"componentTypes": None}
    for argument, probe in values.items():
        typing = next((name for name in TYPINGS if accepts(probe_query(argument, typed_value(probe, name)))), None)
        if typing is None:
            raise SchemaError(
                f"The Audit Trail refused {argument} written as {', as '.join(TYPINGS.values())}: the collector knows no "
                "other way to write it. Tell LivePerson support which type the Audit Trail's auditData takes for it."
            )
        learned[argument] = typing
    day = graphql_value(today)
    if not accepts(probe_query("fromDate", day)):
        raise SchemaError(
            f"The Audit Trail refused fromDate: {day}, the yyyy-MM-dd string LivePerson documents: the collector cannot "
            "ask for records by day. Tell LivePerson support which form the Audit Trail's fromDate takes."
        )
    absent = tuple(
        name
        for name in OPTIONAL_FIELDS
        if not accepts(probe_query(fields=("changeDate", name))) and not accepts(probe_query(fields=("changeDate", name)))
    )
    return AuditSchema(str(learned["orderBy"]), str(learned["orderDirection"]), learned["componentTypes"], absent)


def _named_type(ref: Any) -> tuple[bool, dict[str, Any]] | None:
    """(whether a type reference is a list, the named type inside), wrappers (non-null, list) removed."""
    is_list = False
    for _ in range(4):
        if not isinstance(ref, dict):
            return None
        if ref.get("kind") == "NON_NULL":
            ref = ref.get("ofType")
        elif ref.get("kind") == "LIST" and not is_list:
            is_list, ref = True, ref.get("ofType")
        else:
            return is_list, ref
    return None


def introspected_typing(ref: Any, needed: Sequence[str]) -> str | None:
    """The typing (a key of TYPINGS) of an argument's introspected type, if it takes the values `needed`; else None."""
    typed = _named_type(ref)
    if typed is None:
        return None
    is_list, named = typed
    if named.get("kind") == "ENUM":
        known = {value.get("name") for value in named.get("enumValues") or [] if isinstance(value, dict)}
        return ("enums" if is_list else "enum") if set(needed) <= known else None
    if named.get("kind") == "SCALAR" and named.get("name") in ("String", "ID"):
        return "strings" if is_list else "string"
    return None


def read_introspection(answer: Any, component_types: tuple[str, ...]) -> AuditSchema | None:
    """The schema an answer to INTROSPECTION_QUERY describes, or None if it does not describe one the collector can write
    (then the schema is learned by asking)."""
    try:
        fields = answer["data"]["__schema"]["queryType"]["fields"]
        audit = next(field for field in fields if field["name"] == "auditData")
        arguments = {argument["name"]: argument["type"] for argument in audit["args"]}
        returned = _named_type(audit["type"])
    except (KeyError, TypeError, StopIteration):
        return None
    wanted = {**PROBE_VALUES, **({"componentTypes": component_types} if component_types else {})}
    learned: dict[str, str | None] = {"componentTypes": None}
    for argument, needed in wanted.items():
        learned[argument] = introspected_typing(arguments.get(argument), needed)
        if learned[argument] is None:
            return None
    from_date = _named_type(arguments.get("fromDate"))
    if from_date is None or from_date[0] or from_date[1].get("kind") != "SCALAR" or returned is None:
        return None
    record_fields = returned[1].get("fields")
    if not isinstance(record_fields, list):
        return None
    names = {field.get("name") for field in record_fields if isinstance(field, dict)}
    absent = tuple(name for name in OPTIONAL_FIELDS if name not in names)
    return AuditSchema(str(learned["orderBy"]), str(learned["orderDirection"]), learned["componentTypes"], absent)


def rules_that_cannot_fire(schema: AuditSchema) -> str:
    """What the instance's health and the log say when actionType is absent, or "" when it is there."""
    if "actionType" not in schema.absent_fields:
        return ""
    rules = ", ".join(f'"{name}"' for name in ACTION_TYPE_RULES)
    return (
        "This account's Audit Trail has no actionType field, so these correlation rules of the pack can never fire on "
        f"its events: {rules}. Every event is still collected."
    )


""" PAGE SIZE LEARNER """


class PageSizeLearner:
    """How many records the Audit Trail really returns a page, learned from its answers, kept in the integration context.

    LivePerson documents no maximum for `first`: a server may return fewer records than asked without a word (a
    silent cap), or refuse a larger `first`. `proven` is the longest page the server has returned, so a shorter page
    is the end of the result. A short page not proven to be the end is followed by a probe (`read_page`): records
    there mean the server capped the page, or that a change landed meanwhile; the page's length becomes `cap` only
    if the page asked again is exactly as long again, and never below `MIN_PAGE_SIZE`. A refused `first` is
    asked once more as it was (the error may have been passing), then smaller (`AuditTrailClient.query_page`): if
    the original is refused once again, the largest size accepted (by bisection above the first that worked)
    becomes `cap`. What is learned is said once in the log and kept for a week, then learned again.
    """

    CACHE_KEY = "page_limits"
    KEEP_SECONDS = 7 * 24 * 3600

    def __init__(self, cache: ContextCache, scope: str):
        self._cache, self._scope = cache, scope
        saved = cache.get(self.CACHE_KEY, scope)
        saved = saved if isinstance(saved, dict) else {}
        self.cap: int | None = saved.get("cap") if isinstance(saved.get("cap"), int) else None
        proven = saved.get("proven")
        self.proven: int = proven if isinstance(proven, int) else 0

    def ask(self, wanted: int) -> int:
        return min(wanted, self.cap) if self.cap else wanted

    def is_end(self, got: int, asked: int) -> bool | None:
        """Whether a page of `got` records, asked for `asked`, ends the result: True, False, or None (a probe decides)."""
        if got >= asked:
            self.saw(got)
            return False
        if got == 0 or got < self.proven or (self.cap is not None and got < self.cap):
            return True
        return None

    def saw(self, got: int) -> None:
        if got > self.proven:
            self.proven = got
            self._save()

    def learn_cap(self, cap: int, why: str) -> None:
        if self.cap == cap:
            return
        self.cap, self.proven = cap, min(self.proven, cap)
        demisto.info(f"The Audit Trail {why}: asking for at most {cap} records a page from now on.")
        self._save()

    def _save(self) -> None:
        self._cache.put(self.CACHE_KEY, self._scope, {"cap": self.cap, "proven": self.proven}, time.time() + self.KEEP_SECONDS)


class TieOrderLearner:
    """Which tie-breaking columns (`TIE_COLUMNS`) the Audit Trail accepts in `orderBy` after changeTimestamp, each
    judged once (`tie_columns`): said in the log when refused, kept in the integration context for a week."""

    CACHE_KEY = "order_columns"
    KEEP_SECONDS = 7 * 24 * 3600

    def __init__(self, cache: ContextCache, scope: str):
        self._cache, self._scope = cache, scope
        saved = cache.get(self.CACHE_KEY, scope)
        saved = saved if isinstance(saved, dict) else {}
        self.judged: dict[str, bool] = {name: value for name, value in saved.items() if isinstance(value, bool)}

    @property
    def accepted(self) -> tuple[str, ...]:
        return tuple(name for name in TIE_COLUMNS if self.judged.get(name))

    def unjudged(self) -> list[str]:
        return [name for name in TIE_COLUMNS if name not in self.judged]

    def forget(self) -> None:
        self.judged = {}
        self._cache.put(self.CACHE_KEY, self._scope, self.judged, time.time() + self.KEEP_SECONDS)

    def judge(self, column: str, accepted: bool, why: str = "") -> None:
        self.judged[column] = accepted
        if not accepted:
            demisto.info(f"The Audit Trail refused orderBy {column} ({why}); ties are ordered without it from now on.")
        self._cache.put(self.CACHE_KEY, self._scope, self.judged, time.time() + self.KEEP_SECONDS)


def smaller_page_sizes(asked: int) -> list[int]:
    """Page sizes to try after `asked` was refused: halves down to the minimum. (The refusal's wording, which may name a
    limit, is never read: LivePerson's errors need not read like any we have seen.)"""
    halves = []
    size = asked // 2
    while size > MIN_PAGE_SIZE:
        halves.append(size)
        size //= 2
    return [*halves, *([MIN_PAGE_SIZE] if asked > MIN_PAGE_SIZE else [])]


""" CLIENT """


def _keep_response(response: requests.Response) -> None:
    """An error handler for BaseClient._http_request that returns every answer, so the status is judged here."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one API call tries before it gives up."""

    timeout: float
    server_error_pauses: tuple[float, ...]
    rate_limit_pauses: tuple[float, ...]
    retry_connection_errors: bool

    @property
    def retries(self) -> bool:
        return bool(self.server_error_pauses or self.rate_limit_pauses or self.retry_connection_errors)


# Scheduled runs follow LivePerson's retry policy; the next run resumes when they give up.
RETRY_AS_ADVISED = RetryPolicy(REQUEST_TIMEOUT_SECONDS, SERVER_ERROR_PAUSES, RATE_LIMIT_PAUSES, retry_connection_errors=True)
# test-module answers while the user waits: one try per call, a short timeout, and a message that says what to check.
TRY_ONCE = RetryPolicy(TEST_TIMEOUT_SECONDS, (), (), retry_connection_errors=False)


class AuditTrailClient(BaseClient):
    """Talks to LivePerson: Domain API, Sentinel and the Audit Trail, with LivePerson's retry policy.

    Knows nothing of the platform's last run; it returns audit records or raises a LivePersonError. It writes each
    query as the Audit Trail's schema wants it (`schema`), learned once and kept in the integration context.
    """

    SCHEMA_CACHE_KEY = "audit_schema"
    SCHEMA_KEEP_SECONDS = 7 * 24 * 3600

    def __init__(
        self,
        settings: Settings,
        cache: ContextCache | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        time_budget: float = RUN_TIME_BUDGET_SECONDS,
        policy: RetryPolicy = RETRY_AS_ADVISED,
    ):
        super().__init__(base_url=settings.domain_api_url, verify=settings.verify, proxy=settings.proxy, timeout=policy.timeout)
        self._settings = settings
        self.filters = settings.filters  # which records the instance collects: its queries' filters
        self._policy = policy
        self._cache = cache or ContextCache()
        self._clock = clock or time.monotonic
        self._sleep = sleep or time.sleep
        self._deadline = self._clock() + time_budget
        self.resolver = DomainResolver(settings.domain_api_url, settings.account_id, self._cache, self._get_json)
        self.auth = make_authorizer(settings, self._cache, self.resolver, self._post_form)
        self.pages = PageSizeLearner(self._cache, settings.account_id)
        self.ties = TieOrderLearner(self._cache, settings.account_id)
        self.calls = 0
        self.last_total: int | None = None  # X-Total-Count of the last audit answer (of the page or the whole match)
        # The schema is kept per account and per whether componentTypes is sent (it is learned only when it is).
        filtered = "componentTypes" if settings.filters.component_types else "-"
        self._schema_scope = f"{settings.domain_api_url}|{settings.account_id}|{filtered}"
        self._schema: AuditSchema | None = None
        self._schema_confirmed = False  # learned, or checked, by this run: a refusal is then not the schema's doing
        self._last_refusal = ""  # what the last refused learning query was answered, for a person to read

    def look_up_hosts(self) -> dict[str, str]:
        """Asks the Domain API afresh for each host the instance does not set: the Audit Trail's, and Sentinel's
        (which an API key never uses)."""
        uses_sentinel = self._settings.auth_method == AUTH_CLIENT_CREDENTIALS and not self._settings.sentinel_host
        services = [AUDIT_SERVICE, SENTINEL_SERVICE] if uses_sentinel else [AUDIT_SERVICE]
        hosts = {service: self.resolver.refresh(service) for service in services}
        demisto.info("The Domain API gave: " + ", ".join(f"{service} at {host}" for service, host in hosts.items()))
        return hosts

    # -- one API call with the retry policy --------------------------------------------------------------

    def _send(self, method: str, url: str, retry_connection_errors: bool = True, **kwargs: Any) -> requests.Response:
        """Sends one request; retries 429, 5xx and network failures as the policy says, within the run's time budget."""
        host = urllib.parse.urlsplit(url).netloc
        retries: Counter[str] = Counter()
        while True:
            self.calls += 1
            try:
                response = self._http_request(method, full_url=url, resp_type="response", error_handler=_keep_response, **kwargs)
            except (DemistoException, requests.exceptions.RequestException) as error:
                if is_tls_or_proxy_failure(error):  # the certificate or proxy settings must change: retrying cannot help
                    raise ConnectionFailedError(f"Could not connect to {host}: {tls_or_proxy_problem(error)}") from error
                retry = retry_connection_errors and self._policy.retry_connection_errors
                reason = connection_problem(error, self._policy.timeout)
                # No connection at all (a name that does not resolve, a refused or unanswered connection): the host is
                # down or wrong, and pausing within this run will not change that; the next scheduled run tries again.
                if not retry or not connected(error):
                    raise ConnectionFailedError(f"Could not reach {host} ({reason}): {self._what_to_check(host)}") from error
                # Never the platform library's text: it speaks of a "server URL parameter" this integration does not have.
                problem, response = f"network failure at {host} ({reason}; {self._what_to_check(host)[:-1]})", None
            else:
                if response.status_code != 429 and response.status_code < 500:
                    return response
                problem = "rate limited (429)" if response.status_code == 429 else f"server error ({response.status_code})"
            pause = self._pause_before_retry(host, problem, response, retries)
            demisto.debug(f"{problem} from {host}; retrying in {pause} s")
            self._sleep(pause)

    def _pause_before_retry(self, host: str, problem: str, response: requests.Response | None, retries: Counter[str]) -> float:
        """How long to wait before trying again, as the policy says; raises TransientError when it says to give up."""
        policy = self._policy
        if response is not None and response.status_code == 429 and policy.rate_limit_pauses:
            pause = max(policy.rate_limit_pauses[min(retries["rate"], len(policy.rate_limit_pauses) - 1)], retry_after(response))
            retries["rate"] += 1
        elif retries["server"] < len(policy.server_error_pauses):
            pause = policy.server_error_pauses[retries["server"]]
            retries["server"] += 1
        elif not policy.retries:
            raise TransientError(f"{host} answered {problem}: a problem on LivePerson's side; try again in a few minutes.")
        else:
            raise TransientError(f"LivePerson kept failing: {problem} after {retries['server']} retries. The next run resumes.")
        if self._clock() + pause > self._deadline:
            raise TransientError(f"LivePerson kept failing: {problem}; the run's time budget is spent. The next run resumes.")
        return pause

    def _what_to_check(self, host: str) -> str:
        """The settings that decide whether `host` can be reached."""
        proxy = '"Use system proxy settings"'
        if host == urllib.parse.urlsplit(self._settings.domain_api_url).netloc:
            return f'check "Domain API URL" and {proxy}.'
        if host == self._settings.sentinel_host:
            return f'check "{SENTINEL_SETTING}" and {proxy}.'
        return f"LivePerson's Domain API named this host for the account; check {proxy} and that the platform can reach it."

    def out_of_time(self) -> bool:
        return self._clock() >= self._deadline

    def _get_json(self, url: str, service: str) -> dict:
        """A Domain API answer about the account's `service`."""
        response = self._send("GET", url, headers={"Accept": "application/json"})
        if response.status_code == 400:
            raise SettingError('The Domain API rejected the account ID (400): check "Account ID".')
        if response.status_code == 401:
            raise SettingError(f'The Domain API does not know account "{self._settings.account_id}" (401): check "Account ID".')
        if response.status_code == 404:
            raise ApiError(f'The Domain API has no {service} service for the account (404); check "Domain API URL".')
        return parse_json_object(response, "The Domain API")

    def _post_form(self, url: str, form: dict[str, str], retry_connection_errors: bool = True) -> dict:
        response = self._send("POST", url, retry_connection_errors, data=form, headers={"Accept": "application/json"})
        host = urllib.parse.urlsplit(url).netloc
        given = host == self._settings.sentinel_host
        if response.status_code in (400, 401, 403):
            region = (
                f'and that "{SENTINEL_SETTING}" is your account\'s region (or leave it empty to find it).'
                if given
                else "(the Domain API named this host for the account)."
            )
            raise AuthenticationError(
                f'LivePerson Sentinel at {host} refused the client credentials ({response.status_code}): check "Client ID" and '
                f'"Client secret", {region}'
            )
        if response.status_code == 404:
            where = host if given else f"{host}, the host the Domain API named for the account,"
            other = ", or leave it empty to find it through the Domain API" if given else ""
            raise ServiceNotFoundError(
                f'No LivePerson Sentinel token service at {where} (404): set "{SENTINEL_SETTING}" to your region, '
                f"for example va.sentinel.liveperson.net{other}."
            )
        if response.status_code != 200:
            raise ApiError(f"LivePerson Sentinel at {host} answered {response.status_code} to the token request.")
        return parse_json_object(response, "LivePerson Sentinel")

    # -- the Audit Trail ---------------------------------------------------------------------------------

    def query_audit(self, query: AuditQuery) -> list[dict[str, Any]]:
        """Runs one audit query, written as the Audit Trail's schema wants it. When a query written with a schema
        learned by an earlier run is refused, one small query with every learned typing and field checks that schema:
        if that is refused too, the schema is learned again (once a run) and the query asked again; if not, the
        refusal is about something else (a page size, an order column) and is raised for the caller to judge. Either
        way the schema is confirmed for the rest of the run."""
        try:
            return self._audit_records(build_audit_query(query, self.schema))
        except QueryRefusedError:
            if self._schema_confirmed:
                raise
            if self._accepts(self._schema_check()):
                self._schema_confirmed = True
                raise
        demisto.info("The Audit Trail refused a query written as its schema was learned; learning the schema again.")
        self._learn_schema()
        return self._audit_records(build_audit_query(query, self.schema))

    def _schema_check(self) -> str:
        """One record asked with every argument the schema types and every optional field it has: answered only while
        the schema still holds."""
        check = AuditQuery(
            from_date=utc_now().date(),
            first=1,
            component_types=self.filters.component_types,
            timezone=None,
            fields=("changeDate", *OPTIONAL_FIELDS),
        )
        return build_audit_query(check, self.schema)["query"]

    def query_page(self, query: AuditQuery) -> tuple[list[dict[str, Any]], int]:
        """One page of audit records and the `first` it was read with. A refused `first` is asked once more as it
        was, then halved; when a smaller size is accepted and the first one is refused once again, the largest size
        the server accepts lies between that smaller size and the last one refused: it is found by bisection and
        learned as the server's cap. Only the fact of a refusal counts, never its wording."""
        asked = query.first if query.first is not None else DEFAULT_API_FIRST
        try:
            return self.query_audit(query), asked
        except QueryRefusedError as error:
            refused = error
        sizes = [asked, *smaller_page_sizes(asked)]
        for index, size in enumerate(sizes):
            try:
                records = self.query_audit(replace(query, first=size))
            except QueryRefusedError:
                continue
            if size == asked:
                return records, size
            try:  # a smaller size worked: was it the size, or a passing failure? Asking as before once more tells.
                return self.query_audit(query), asked
            except QueryRefusedError:
                largest, records = self._largest_accepted(query, size, sizes[index - 1], records)
                self.pages.learn_cap(largest, f"refused first={asked}")
                return records, largest
        raise refused

    def _largest_accepted(
        self, query: AuditQuery, accepted: int, refused: int, records: list[dict[str, Any]]
    ) -> tuple[int, list[dict[str, Any]]]:
        """The largest `first` from `accepted` up to below `refused` that the server accepts, by bisection (about
        log2(refused - accepted) queries, once: the size is then learned), and the page read with it."""
        while refused - accepted > 1:
            middle = (accepted + refused) // 2
            try:
                records, accepted = self.query_audit(replace(query, first=middle)), middle
            except QueryRefusedError:
                refused = middle
        return accepted, records

    @property
    def schema(self) -> AuditSchema:
        """The Audit Trail's schema: this run's, else the one kept in the integration context, else learned now."""
        if self._schema is None:
            self._schema = AuditSchema.from_json(self._cache.get(self.SCHEMA_CACHE_KEY, self._schema_scope))
        if self._schema is None:
            self._learn_schema()
        assert self._schema is not None
        return self._schema

    @property
    def order_columns_allowed(self) -> int | None:
        """How many orderBy columns a query may carry: 1 when the schema takes a single column, None for no limit."""
        return self.schema.order_columns_allowed

    def schema_warning(self) -> str:
        """What the instance's health should say about the schema this run used ("" for nothing, or if it used none):
        the correlation rules that cannot fire."""
        return rules_that_cannot_fire(self._schema) if self._schema else ""

    def _learn_schema(self) -> None:
        """Learns the schema (introspection where the server allows it, else by asking), keeps it and says it once."""
        component_types = self._settings.filters.component_types
        try:
            require_minimal_query(self._accepts)
            schema = self._introspect(component_types)
            how = "from introspection"
            if schema is None:
                schema, how = learn_schema(self._accepts, component_types, utc_now().date()), "by asking"
        except SchemaError as error:  # the last refusal's wording helps a person, never the code
            raise SchemaError(f"{error} Its last answer: {self._last_refusal}") from None
        self._schema, self._schema_confirmed = schema, True
        self._cache.put(self.SCHEMA_CACHE_KEY, self._schema_scope, schema.to_json(), time.time() + self.SCHEMA_KEEP_SECONDS)
        warning = rules_that_cannot_fire(schema)
        demisto.info(f"The Audit Trail's schema ({how}): {schema.describe()}." + (f" {warning}" if warning else ""))

    def _introspect(self, component_types: tuple[str, ...]) -> AuditSchema | None:
        """The schema as GraphQL introspection describes it; None when the server refuses introspection or its answer
        does not describe a schema the collector can write (the schema is then learned by asking)."""
        response = self._post_audit({"query": INTROSPECTION_QUERY})
        if response.status_code != 200:
            with contextlib.suppress(QueryRefusedError):
                audit_records(response)  # raises as any audit call does (401, 403, ...); a refusal only ends introspection
            return None
        with contextlib.suppress(ValueError):
            return read_introspection(response.json(), component_types)
        return None

    def _accepts(self, text: str) -> bool:
        """Whether the Audit Trail answers a query (True) or refuses it (False); any other failure raises."""
        try:
            self._audit_records({"query": text})
        except QueryRefusedError as error:
            self._last_refusal = short_reason(error)
            return False
        return True

    def _audit_records(self, body: dict[str, str]) -> list[dict[str, Any]]:
        """The records of one audit call. An answer that is not a GraphQL answer (a cut body, no data) is asked once
        more: it says nothing about the query."""
        try:
            return self._answered_records(body)
        except ResponseFormatError:
            return self._answered_records(body)

    def _answered_records(self, body: dict[str, str]) -> list[dict[str, Any]]:
        response = self._post_audit(body)
        total = response.headers.get("X-Total-Count", "")
        self.last_total = int(total) if total.strip().isdigit() else None
        return audit_records(response)

    def _post_audit(self, body: dict[str, str]) -> requests.Response:
        """Posts one GraphQL body to the Audit Trail; on a 401 authorises afresh once (a new token, or a new signature),
        and re-resolves the host once when it seems stale. Returns any other answer, whatever its status, to be judged."""
        renewed = re_resolved = False
        while True:
            host, from_cache = self.resolver.audit_host()
            url = f"https://{host}/api/account/{urllib.parse.quote(self._settings.account_id)}/configuration/metadata/audit"
            headers = {"Content-Type": "application/json", "Accept": "application/json"}
            try:
                response = self._send(
                    "POST",
                    url,
                    retry_connection_errors=not from_cache or re_resolved,
                    json_data=body,
                    headers=headers,
                    auth=self.auth.auth(),  # requests runs it on every attempt: an API key signs each one afresh
                )
            except ConnectionFailedError:
                if not from_cache or re_resolved:
                    raise
                self.resolver.refresh()  # a cached host that cannot be reached may have moved
                re_resolved = True
                continue
            status = response.status_code
            if status == 401 and not renewed:
                self.auth.after_refusal()
                renewed = True
                continue
            if status == 401:
                raise self.auth.refused(response)
            if status == 404 and from_cache and not re_resolved:
                self.resolver.refresh()
                re_resolved = True
                continue
            return response


UNRESOLVABLE_HOST_SIGNS = ("Failed to resolve", "Name or service not known", "nodename nor servname", "getaddrinfo failed")


def _causes(error: Exception) -> list[BaseException]:
    """The error, what CommonServerPython wrapped in it, and its cause."""
    return [cause for cause in (error, getattr(error, "exception", None), error.__cause__) if cause is not None]


def is_tls_or_proxy_failure(error: Exception) -> bool:
    """A certificate or proxy failure: CommonServerPython's message names the setting that fixes it."""
    return any(isinstance(cause, requests.exceptions.SSLError | requests.exceptions.ProxyError) for cause in _causes(error))


def tls_or_proxy_problem(error: Exception) -> str:
    """What failed and which setting to check, in this integration's words: the platform library's message names
    checkboxes by other names ("Use system proxy", "Trust any certificate")."""
    if any(isinstance(cause, requests.exceptions.ProxyError) for cause in _causes(error)):
        return 'the proxy failed the connection: check "Use system proxy settings" and the proxy the platform uses.'
    return (
        "its TLS certificate could not be verified. If a proxy inspects TLS, the platform must trust that proxy's "
        'certificate; for testing only, select "Trust any certificate (not secure)".'
    )


def is_unresolvable_host(error: Exception) -> bool:
    return any(sign in str(cause) for cause in _causes(error) for sign in UNRESOLVABLE_HOST_SIGNS)


def connected(error: Exception) -> bool:
    """Whether the failed request had reached the host (the answer broke: reset, read timeout), rather than never
    connecting (a name that does not resolve, a connection refused or not answered in time)."""
    if is_unresolvable_host(error):
        return False
    causes = _causes(error)
    if any(isinstance(cause, requests.exceptions.ConnectTimeout | ConnectionRefusedError) for cause in causes):
        return False
    return "refused" not in " ".join(str(cause) for cause in causes).lower()


def connection_problem(error: Exception, timeout: float) -> str:
    """What went wrong when no answer came, in a few words."""
    if is_unresolvable_host(error):
        return "host name not found"
    if any(isinstance(cause, requests.exceptions.Timeout) for cause in _causes(error)):
        return f"no answer within {timeout:g} s"
    text = " ".join(str(cause) for cause in _causes(error)).lower()
    for sign, problem in (("refused", "connection refused"), ("reset", "connection reset"), ("timed out", "timed out")):
        if sign in text:
            return problem
    return short_reason(getattr(error, "exception", None) or error)


def short_reason(error: Exception) -> str:
    """The first line of an error, short: never a request body, so never a credential."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:200]


def retry_after(response: requests.Response) -> float:
    value = response.headers.get("Retry-After", "")
    return min(float(value), 60.0) if re.fullmatch(r"\d+(\.\d+)?", value.strip()) else 0.0


def parse_json_object(response: requests.Response, service: str) -> dict:
    try:
        answer = response.json()
    except ValueError as error:
        raise ResponseFormatError(f"{service} answered {response.status_code} with a body that is not JSON.") from error
    if not isinstance(answer, dict):
        raise ResponseFormatError(f"{service} answered {response.status_code} with JSON that is not an object.")
    return answer


def graphql_errors(answer: dict) -> str:
    errors = answer.get("errors")
    if not errors:
        return ""
    messages = [str(error.get("message", error)) if isinstance(error, dict) else str(error) for error in errors]
    return "; ".join(messages)[:500]


def audit_records(response: requests.Response) -> list[dict[str, Any]]:
    """The records of an Audit Trail answer, or the error that explains why there are none."""
    status = response.status_code
    if status == 403:
        raise AccessDeniedError(
            "LivePerson denied access to the Audit Trail (403): the credentials are valid but lack a permission. "
            "LivePerson does not document which API permission the Audit Trail needs; an API key acts with the "
            "security settings of the user it belongs to, and the Audit Trail is an account administrator's view."
        )
    if status == 451:
        raise AccessDeniedError("LivePerson reports the account or the API key's user as blocked (451); contact LivePerson.")
    if status != 200:
        detail = ""
        with contextlib.suppress(ValueError):
            detail = graphql_errors(response.json())
        refused = QueryRefusedError if status == 400 else ApiError
        raise refused(f"The Audit Trail answered {status}" + (f": {detail}" if detail else ".") + " This is not retried.")
    answer = parse_json_object(response, "The Audit Trail")
    if errors := graphql_errors(answer):
        raise QueryRefusedError(f"The Audit Trail answered with GraphQL errors: {errors}")
    data = answer.get("data")
    records = data.get("auditData") if isinstance(data, dict) else None
    if not isinstance(records, list) or not all(map(isinstance, records, itertools.repeat(dict))):
        raise ResponseFormatError("The Audit Trail answered 200 without data.auditData; treated as an error, not as no events.")
    return records


""" RECORDS """


def read_change_date(value: Any) -> tuple[datetime, str]:
    """A changeDate as a time, and that time as the event's `_time` (exactly `format_time` of it).

    The shape LivePerson writes is read by `datetime.fromisoformat`, a tenth of strptime's cost, and its `_time` is
    the same text rearranged; any other value goes to strptime, which decides, as it always did, what else is a time
    and how a bad value is reported.
    """
    if isinstance(value, str) and CHANGE_DATE_SHAPE.fullmatch(value):
        try:
            when = datetime.fromisoformat(value + "+00:00")
        except ValueError:  # out of range (month 13, February 30): reported below in strptime's words
            pass
        else:
            if when.microsecond or when.year < 1000:
                return when, format_time(when)
            return when, f"{value[:10]}T{value[11:19]}Z"
    when = _strptime_record_time(value)
    return when, format_time(when)


def change_date_parts(value: Any) -> tuple[datetime, datetime, str]:
    """A changeDate as `make_entries` uses it: the time, its whole second, and the end of the event line (`_time`).

    The usual value, a whole second ("2024-05-01 13:45:10.0"), is read here: most records have a changeDate of their
    own, so this runs for most records."""
    if isinstance(value, str) and WHOLE_SECOND_CHANGE_DATE.fullmatch(value):
        try:
            when = datetime.fromisoformat(value[:19] + "+00:00")
        except ValueError:  # out of range (month 13, February 30): read_change_date says so in its words
            pass
        else:
            if when.year >= 1000:
                return when, when, ', "_time": "' + value[:10] + "T" + value[11:19] + 'Z"}'
    when, stamp = read_change_date(value)
    return when, (when.replace(microsecond=0) if when.microsecond else when), ', "_time": "' + stamp + '"}'


def _strptime_record_time(value: Any) -> datetime:
    for pattern in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(str(value), pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ResponseFormatError(f'An audit record has a changeDate that is not a time: "{str(value)[:40]}".')


def to_event(record: dict[str, Any], when: datetime) -> dict[str, Any]:
    return {**record, "_time": format_time(when)}


class Entry(NamedTuple):
    """One audit record as read: its change time, its fingerprint, its event line (sent as it is), and the whole
    second it is in. Immutable values only, so the garbage collector stops looking at an entry once it has seen it:
    a drain makes one for every record."""

    when: datetime
    fp: int
    line: str  # event_line(record, when): the record's JSON with `_time` appended
    second: datetime  # `when` less its fraction

    def event(self) -> dict[str, Any]:
        """The event as sent: the record and its `_time`."""
        return json.loads(self.line)


def record_json(record: dict[str, Any]) -> str:
    """`json.dumps(record)`, byte for byte (`make_entries` hashes it and sends it)."""
    return "".join(_ENCODE_JSON(record, 0)) if _ENCODE_JSON else json.dumps(record)


def _json_encoder() -> Callable[[Any, int], Any] | None:
    """The C encoder `json.dumps` builds anew for every call, built once: that is a third of its cost per record.
    None where the standard library has no C encoder, or it does not answer as `json.dumps` does."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    sample = {"text": 'é"\\\n', "list": [1, 2.5, None, True], "nested": {"n": -3}}
    try:
        encode = make(
            None, json.JSONEncoder().default, json.encoder.encode_basestring_ascii, None, ": ", ", ", False, False, True
        )
        return encode if "".join(encode(sample, 0)) == json.dumps(sample) else None
    except (TypeError, ValueError):  # another signature than the one known
        return None


_ENCODE_JSON = _json_encoder()
_NO_VALUE = object()  # what no record's changeDate is
# BLAKE2b with an 8-byte digest and nothing hashed yet: copying it costs less than making one from its parameters.
_FINGERPRINT_HASHER = hashlib.blake2b(digest_size=8)


def make_entries(records: list[dict[str, Any]], before: datetime | None = None) -> list[Entry]:
    """The entries of a page. Each record's JSON is made once: hashed (BLAKE2b, 8 bytes) as the entry's fingerprint,
    and sent as its event line with `_time` appended. Records come in time order, so a changeDate is read once for
    each run of records that share it.

    The fingerprint is not an identity: identical-looking records share it. The fields come in the order the query
    selects them, the same for every query the collector makes, so the same record always has the same fingerprint.
    A changeDate that cannot be read is placed by `place_unreadable` (`before`: the time of the record before the
    page, where the caller knows it).
    """
    entries: list[Entry] = []
    unreadable: dict[int, ResponseFormatError] = {}  # where records whose changeDate cannot be read are, and why
    changed: Any = _NO_VALUE
    unread: ResponseFormatError | None = None
    for record in records:
        text = record_json(record)
        if (value := record.get("changeDate")) != changed:
            changed = value
            try:
                when, second, ending = change_date_parts(changed)
                unread = None
            except ResponseFormatError as error:
                unread = error
        hasher = _FINGERPRINT_HASHER.copy()
        hasher.update(text.encode())
        fp = int.from_bytes(hasher.digest(), "big")
        if unread is not None:
            unreadable[len(entries)] = unread
            entries.append(Entry(datetime.min, fp, text, datetime.min))  # placed by place_unreadable
            continue
        line = text[:-1] + ending if record and "_time" not in record else event_line(record, when, text)
        entries.append(Entry(when, fp, line, second))
    if unreadable:
        place_unreadable(records, entries, unreadable, before)
    return entries


def place_unreadable(
    records: list[dict[str, Any]], entries: list[Entry], unreadable: dict[int, ResponseFormatError], before: datetime | None
) -> None:
    """Gives each record whose changeDate cannot be read the time of its neighbour before it in the ascending result
    (the readable record before it on the page, else `before`, else the readable record after it), and marks its event
    `changeDateUnreadable`: it is delivered in its place, once, instead of stopping the collector at it for good."""
    for index, error in unreadable.items():
        earlier = (entries[at].when for at in range(index - 1, -1, -1) if at not in unreadable)
        later = (entries[at].when for at in range(index + 1, len(entries)) if at not in unreadable)
        when = next(earlier, None) or before or next(later, None)
        if when is None:  # no record of the page has a time to place it by
            raise error
        line = json.dumps({**records[index], "changeDateUnreadable": True, "_time": format_time(when)})
        entries[index] = Entry(when, entries[index].fp, line, when.replace(microsecond=0))
    demisto.info(
        f"{len(unreadable)} audit record(s) with a changeDate that cannot be read: each is delivered with the time of its "
        "neighbour in the result and changeDateUnreadable set to true."
    )


class Second(NamedTuple):
    """Every record of one changeDate second, in the order read. Positions inside a second mean nothing.

    A tuple of immutable values, like `Entry`, so that the garbage collector passes over it once."""

    start: datetime
    entries: tuple[Entry, ...]

    @property
    def text(self) -> str:
        return format_time(self.start)

    def keys(self) -> list[int]:
        """Set keys of the second's records: identical records are told apart by their occurrence number.

        Identical records of one second are interchangeable, so numbering them in any order names the same keys.
        """
        if len(self.entries) == 1:
            return [self.entries[0].fp]
        seen: dict[int, int] = {}
        keys = []
        for entry in self.entries:
            occurrence = seen.get(entry.fp, 0)
            seen[entry.fp] = occurrence + 1
            keys.append(entry.fp if occurrence == 0 else _mix(entry.fp ^ (occurrence * _GOLDEN)))
        return keys


""" KEY SKETCH """

_GOLDEN = 0x9E3779B97F4A7C15
_PART_CELLS = 12  # the cells of each of a key sketch's four parts
_MASK64 = 2**64 - 1


def _mix(value: int) -> int:
    """splitmix64's finaliser: spreads a 64-bit value's bits over all 64."""
    value = (value + _GOLDEN) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


def _cell_value(key: int) -> int:
    """What a key adds to each of its cells: the key, and 16 bits of check that are not linear in xor (so the xor of
    several keys' checks is not the check of their xor)."""
    return (key << 16) | ((((key ^ (key >> 29)) * 0xBF58476D1CE4E5B9) & _MASK64) >> 48)


def _cells(key: int) -> tuple[int, int, int, int]:
    """A key's cell in each of the sketch's four parts. Keys are already uniform 64-bit hashes: one multiplication
    spreads them, and each part takes 16 bits of it."""
    spread, size = (key * 0xD6E8FEB86659FD93) & _MASK64, _PART_CELLS
    return (
        (spread & 0xFFFF) % size,
        size + ((spread >> 16) & 0xFFFF) % size,
        2 * size + ((spread >> 32) & 0xFFFF) % size,
        3 * size + (spread >> 48) % size,
    )


class KeySketch:
    """An invertible Bloom lookup table of 64-bit keys, in a fixed 672 bytes.

    Each key is added to one cell in each of four parts (`_cells`): the cell counts its keys and keeps the xor of
    their `_cell_value`s. Subtracting the sketch of one set from the sketch of another leaves only the keys in one of
    them, and those can be listed again ("peeled") while they are few: about a quarter of the cells. The cursor keeps
    one per day, so the records that appear late in an already-read day are named exactly instead of re-sending their
    hour.
    """

    PARTS = 4  # _cells spreads a key over exactly four parts
    CELL = struct.Struct("<iQH")  # as saved: count, xor of keys, xor of checks

    def __init__(self) -> None:
        size = _PART_CELLS * self.PARTS
        self.counts = [0] * size
        self.values = [0] * size  # xor of the cell's keys' _cell_value

    def add(self, keys: Iterable[int], sign: int = 1) -> None:
        """Adds the keys (removes them with a sign of -1). It runs for every record consumed: the cells are worked out
        by module functions, not methods, a fifth of its cost."""
        counts, values = self.counts, self.values
        for key in keys:
            value = _cell_value(key)
            for cell in _cells(key):
                counts[cell] += sign
                values[cell] ^= value

    def clone(self) -> "KeySketch":
        copy = KeySketch()
        copy.counts, copy.values = list(self.counts), list(self.values)
        return copy

    def minus(self, other: "KeySketch") -> "KeySketch":
        difference = KeySketch()
        difference.counts = [mine - theirs for mine, theirs in zip(self.counts, other.counts, strict=True)]
        difference.values = [mine ^ theirs for mine, theirs in zip(self.values, other.values, strict=True)]
        return difference

    def peel(self) -> tuple[list[int], list[int]] | None:
        """For a difference A - B: (keys only in A, keys only in B), or None when there are too many to list."""
        work = self.clone()
        added: list[int] = []
        removed: list[int] = []
        progress = True
        while progress:
            progress = False
            for cell in range(len(work.counts)):
                count, value = work.counts[cell], work.values[cell]
                key = value >> 16
                if count in (1, -1) and value == _cell_value(key):
                    (added if count == 1 else removed).append(key)
                    work.add((key,), -count)
                    progress = True
        if any(work.counts) or any(work.values):
            return None
        return added, removed

    def to_text(self) -> str:
        cells = zip(self.counts, self.values, strict=True)
        return base64.b64encode(b"".join(self.CELL.pack(count, value >> 16, value & 0xFFFF) for count, value in cells)).decode()

    @classmethod
    def from_text(cls, text: str) -> "KeySketch":
        raw = base64.b64decode(text.encode(), validate=True)
        sketch = cls()
        if len(raw) != cls.CELL.size * len(sketch.counts):
            raise ValueError("a day sketch of the wrong size")
        for cell, (count, keys, checks) in enumerate(cls.CELL.iter_unpack(raw)):
            sketch.counts[cell], sketch.values[cell] = count, (keys << 16) | checks
        return sketch


""" CURSOR """


def day_start(day: date, zone: str) -> datetime:
    """When LivePerson's result for fromDate=`day` begins, in UTC, if it reads fromDate in `zone`."""
    midnight = datetime.combine(day, datetime.min.time())
    if zone == "UTC":
        return midnight.replace(tzinfo=UTC)
    return pytz.timezone(zone).localize(midnight).astimezone(UTC)


def parse_second(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@dataclass
class Cursor:
    """Where the next run resumes: a small JSON document (the last run), under 4 KB whatever the volume. Pure: no I/O.

    The Audit Trail has no record id, filters by whole days and pages by offset; the order of records inside one
    second is not promised, and a record may become visible after later ones. So the cursor never keeps a position
    inside a second: it moves by whole seconds, and only over seconds older than the settle delay.
    - `last`: every record up to and including this second has been consumed (delivered, or skipped as older than
      `since`, the first fetch time, fixed by the first run: it saves the cursor whatever it finds).
    - `base`: the fromDate of the next query, the day before the day of `last`. Queries start a day early so that a
      record that appears late in the previous day is still seen.
    - `hours`: per hour since `base` 00:00 UTC, the count and additive hash of the consumed records. The next query's
      offset is derived from them: the count of consumed records from the start of `base` in `zone`, the time zone
      LivePerson reads fromDate in (UTC as asked, or US/Eastern: learned when the position only fits that way).
      The record just before that offset must be no later than `last`, and nothing after it may be: otherwise records
      appeared or went missing before the cursor, and the run reconciles (`Run.reconcile`, which re-reads with `reread`).
    - `sketches`: per day, a `KeySketch` of the consumed records. Reconciling re-reads the days and subtracts: the
      difference names the late records exactly. Where it cannot (too many), the hour digests narrow the re-send to
      the hours that changed.
    - `recount`: only while a reconcile too large for one run goes on: [offset, hour]. Hours before `hour` were
      re-read (their digests, and the sketches of their days, are the new ones; the day of `hour`, when `hour` is not
      its first, holds the sketch of what was re-read of it) and `offset` is where that hour begins in the re-read.
    - `skipped`: [count, hour] while `base` is the day of `since` and the first run did not read that day up to it:
      the records of the result before hour `hour` (the hour `since` is in), counted by bisection (`offset_of`), are
      part of the position but not of `hours` or `sketches` (a record before that hour consumed later, one that
      landed after the count, is counted with them); reconciling counts them again the same way and re-reads from
      there. (`hour` is 5 or later, so the zones give one position, and the zone is learned once `base` moves on.)
    """

    since: str
    base: str
    last: str | None = None
    zone: str = "UTC"
    hours: dict[int, list[Any]] = field(default_factory=dict)  # [count, hash], the hash None where unknown
    sketches: dict[str, KeySketch | None] = field(default_factory=dict)
    recount: list[int] | None = None  # [offset, hour] of a reconcile that goes on in the next run
    skipped: list[int] | None = None  # [count, hour]: the records before that hour of base, counted but not consumed
    _midnight: tuple[str, datetime] | None = field(default=None, init=False, repr=False, compare=False)

    VERSION = 2
    ZONES = ("UTC", "US/Eastern")

    @classmethod
    def start(cls, since: datetime) -> "Cursor":
        """A new cursor: from the day of `since`, or the day before when a US/Eastern fromDate would miss it."""
        since = since.astimezone(UTC)
        return cls(since=format_time(since), base=first_query_day(since).isoformat())

    @property
    def since_time(self) -> datetime:
        return datetime.fromisoformat(self.since.replace("Z", "+00:00"))

    @property
    def base_day(self) -> date:
        return date.fromisoformat(self.base)

    @property
    def last_time(self) -> datetime | None:
        return parse_second(self.last) if self.last else None

    def position(self, zone: str | None = None) -> int:
        """How many records of the result of fromDate=`base` (read in `zone`) the cursor has consumed."""
        begins = day_start(self.base_day, zone or self.zone)
        first_hour = self.hour_of(begins)
        skipped = self.skipped[0] if self.skipped else 0
        return skipped + sum(count for hour, (count, _) in self.hours.items() if hour >= first_hour)

    def positions(self) -> list[tuple[str, int]]:
        """The learned zone's position first, then another zone's where it differs."""
        mine = self.position()
        others = [(zone, self.position(zone)) for zone in self.ZONES if zone != self.zone]
        return [(self.zone, mine), *[(zone, at) for zone, at in others if at != mine]]

    def copy(self) -> "Cursor":
        return replace(
            self,
            recount=None if self.recount is None else list(self.recount),
            skipped=None if self.skipped is None else list(self.skipped),
            hours={hour: list(digest) for hour, digest in self.hours.items()},
            sketches={day: None if sketch is None else sketch.clone() for day, sketch in self.sketches.items()},
        )

    def sketch_begins(self, hour: int) -> bool:
        """Whether the sketch of the day of `hour` begins there: at midnight, or where the skipped records end."""
        return hour % 24 == 0 or (self.skipped is not None and hour == self.skipped[1])

    def day_of_hour(self, hour: int) -> str:
        return (self.base_day + timedelta(days=hour // 24)).isoformat()

    def hour_start(self, hour: int) -> datetime:
        return self._base_midnight() + timedelta(hours=hour)

    def hour_of(self, moment: datetime) -> int:
        since_base = moment - self._base_midnight()
        return since_base.days * 24 + since_base.seconds // 3600

    def consume(self, seconds: list[Second]) -> None:
        """Moves past whole seconds, oldest first (their records delivered, or skipped on purpose).

        The work is done per hour: each second only adds its records' count, hash and keys to those of the hour it
        is in, and the hour's digest and its day's sketch take them when the hour (or the call) ends.
        """
        if not seconds:
            return
        if self.last is not None and seconds[0].text <= self.last:
            raise ValueError(f"second {seconds[0].text} is not after {self.last}")
        hour, hour_ends, count, added = -1, None, 0, 0
        keys: list[int] = []
        previous = None
        skip_end = self.hour_start(self.skipped[1]) if self.skipped else None  # still right after a rebase: all is later
        for second in seconds:
            start, entries = second
            if previous is not None and start <= previous:
                raise ValueError(f"second {second.text} is not after {format_time(previous)}")
            previous = start
            if self.skipped and skip_end and start < skip_end:  # landed there after they were counted
                self.skipped[0] += len(entries)
                continue
            if hour_ends is None or start >= hour_ends:
                self._close_hour(hour, count, added, keys)
                hour, hour_ends = self._open_hour(start)
                count, added, keys = 0, 0, []
            if len(entries) == 1:
                fp = entries[0].fp
                count, added = count + 1, added + fp
                keys.append(fp)
            else:
                count, added = count + len(entries), added + sum(entry.fp for entry in entries)
                keys.extend(second.keys())
        self._close_hour(hour, count, added, keys)
        self.last = seconds[-1].text

    def _open_hour(self, start: datetime) -> tuple[int, datetime]:
        """The hour (counted from base) that `start` is in, and when it ends. A second two days after base moves
        base to the day before it first, forgetting what is older."""
        hour = self.hour_of(start)
        if hour >= 48:
            self.rebase(start.date() - timedelta(days=1))
            hour = self.hour_of(start)
        return hour, self._base_midnight() + timedelta(hours=hour + 1)

    def _close_hour(self, hour: int, count: int, added: int, keys: list[int]) -> None:
        """Adds an hour's consumed records to its digest ([count, hash], the hash None where unknown) and their keys to
        its day's sketch (made on the day's first record)."""
        if not count:
            return
        digest = self.hours.get(hour)
        if digest is None:
            self.hours[hour] = [count, added % HASH_MODULUS]
        else:
            digest[0] += count
            digest[1] = None if digest[1] is None else (digest[1] + added) % HASH_MODULUS
        day = self.day_of_hour(hour)
        if day not in self.sketches:
            self.sketches[day] = KeySketch()
        sketch = self.sketches[day]
        if sketch is not None:
            sketch.add(keys)

    def _base_midnight(self) -> datetime:
        """`base` 00:00 UTC, worked out once per base (consume needs it for every second)."""
        if self._midnight is None or self._midnight[0] != self.base:
            self._midnight = (self.base, day_start(self.base_day, "UTC"))
        return self._midnight[1]

    def rebase(self, day: date) -> None:
        """Moves `base` forward to `day`, forgetting what is older: hours are counted from the new base."""
        shift = (day - self.base_day).days
        if shift <= 0:
            return
        self.hours = {hour - 24 * shift: digest for hour, digest in self.hours.items() if hour >= 24 * shift}
        self.sketches = {name: sketch for name, sketch in self.sketches.items() if name >= day.isoformat()}
        self.base = day.isoformat()
        self.skipped = None  # records of the old base day only

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.VERSION,
            "since": self.since,
            "base": self.base,
            "last": self.last,
            "zone": self.zone,
            "hours": [
                [hour, count, None if total is None else f"{total:016x}"] for hour, (count, total) in sorted(self.hours.items())
            ],
            "sketches": {day: None if sketch is None else sketch.to_text() for day, sketch in sorted(self.sketches.items())},
            **({"recount": self.recount} if self.recount else {}),
            **({"skipped": self.skipped} if self.skipped else {}),
        }

    @classmethod
    def from_json(cls, state: dict[str, Any]) -> "Cursor":
        try:
            if state.get("version") != cls.VERSION:
                raise ValueError(f"unknown version {state.get('version')!r}")
            cursor = cls(
                since=str(state["since"]),
                base=date.fromisoformat(state["base"]).isoformat(),
                last=None if state.get("last") is None else format_time(parse_second(state["last"])),
                zone=state.get("zone", "UTC"),
                hours={
                    int(hour): [int(count), None if total is None else int(total, 16)]
                    for hour, count, total in state.get("hours", [])
                },
                sketches={
                    date.fromisoformat(day).isoformat(): None if text is None else KeySketch.from_text(text)
                    for day, text in state.get("sketches", {}).items()
                },
            )
            if state.get("recount") is not None:
                offset, hour = (int(value) for value in state["recount"])
                if offset < 0 or not 0 < hour < 48:
                    raise ValueError(f"a reconcile at {state['recount']!r}")
                cursor.recount = [offset, hour]
            if state.get("skipped") is not None:
                count, hour = (int(value) for value in state["skipped"])
                if count < 0 or not 0 < hour < 24:
                    raise ValueError(f"records skipped before {state['skipped']!r}")
                cursor.skipped = [count, hour]
            cursor.since_time  # noqa: B018 - validates the stored time
            if cursor.zone not in cls.ZONES:
                raise ValueError(f"unknown zone {cursor.zone!r}")
        except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as error:
            raise StateError(
                f"The saved last run of this instance cannot be read ({error}). Reset the last run of the instance to start over."
            ) from error
        return cursor


def first_query_day(moment: datetime) -> date:
    """The fromDate whose result holds `moment` whichever zone LivePerson reads it in (UTC, or US/Eastern at -4/-5 h)."""
    return moment.date() if moment.hour >= 5 else moment.date() - timedelta(days=1)


def unaccounted(entries: Sequence[Entry], count: int, total: int | None, fps: list[int] | None = None) -> list[Entry] | None:
    """Which of `entries` are not among the `count` records whose fingerprints add up to `total`; None if unknown.

    The difference of the hashes names up to two records that appeared anywhere among them; the first `count`
    entries being the known ones is tried first. Beyond that, or without a hash, the caller resends them all:
    duplicates, never losses. `fps` are the fingerprints to use, if not the entries' own.
    """
    if total is None:
        return [] if len(entries) == count else None
    fps = fps if fps is not None else [entry.fp for entry in entries]
    if len(fps) >= count and sum(fps[:count]) % HASH_MODULUS == total:
        return list(entries[count:])
    surplus = (sum(fps) - total) % HASH_MODULUS
    if len(fps) == count + 1 and surplus in fps:
        return [entries[fps.index(surplus)]]
    if len(fps) == count + 2:
        seen: dict[int, int] = {}
        for index, fp in enumerate(fps):
            partner = seen.get((surplus - fp) % HASH_MODULUS)
            if partner is not None:
                return [entries[partner], entries[index]]
            seen.setdefault(fp, index)
    return None


""" PAGER """


@dataclass
class FetchPlan:
    """What one run may do."""

    filters: AuditFilters
    max_events: int
    page_size: int
    settle_seconds: int = 0

    def query(self, day: date, first: int, offset: int) -> AuditQuery:
        return AuditQuery(
            from_date=day,
            first=first,
            offset=offset,
            users=self.filters.users,
            component_types=self.filters.component_types,
            lpa=self.filters.lpa,
            automatic_updates=self.filters.automatic_updates,
        )


def read_page(client: AuditTrailClient, query: AuditQuery) -> tuple[list[dict[str, Any]], bool]:
    """One page, and whether it ends the result. A page shorter than asked is the end only when the server is known
    not to cap pages at that length; otherwise one more query (a probe) decides, and may teach the learner a cap.

    A probe that finds more proves a cap only if nothing changed meanwhile: a change landing between the page and the
    probe looks the same. So the original query is asked again, and its length is learned as the cap only if the
    answer is exactly as long again, and never below the smallest page (`MIN_PAGE_SIZE`). The probe's records only
    say that more follow: they are not added to the page (a second may lie across the two queries, in two orders);
    the next page reads that second whole."""
    records, asked = client.query_page(query)
    verdict = client.pages.is_end(len(records), asked)
    if verdict is not None:
        return records, verdict
    probe, _ = client.query_page(replace(query, offset=(query.offset or 0) + len(records), first=asked))
    if not probe:
        client.pages.saw(len(records))
        return records, True
    if len(records) < MIN_PAGE_SIZE:
        return records, False
    again, _ = client.query_page(replace(query, first=asked))
    if len(again) == len(records):
        client.pages.learn_cap(len(records), f"returned {len(records)} records when asked for {asked}, twice, and more followed")
    return again, False  # the fresher answer: either way more follows it


def whole_seconds(entries: list[Entry]) -> list[Second]:
    """The entries grouped by their second, in the order read (which must be ascending)."""
    seconds: list[Second] = []
    current: datetime | None = None
    first = 0  # where the current second's entries begin
    for index, entry in enumerate(entries):
        start = entry.second
        if start != current:
            if current is not None:
                if start < current:
                    raise ResponseFormatError(
                        "The Audit Trail answered records out of time order although ascending order was asked."
                    )
                seconds.append(Second(current, tuple(entries[first:index])))
            current, first = start, index
    if current is not None:
        seconds.append(Second(current, tuple(entries[first:])))
    return seconds


@dataclass(frozen=True)
class PagerState:
    """Where the reading of one result stands, between two pages. Pure data: `plan_page` and `absorb` move it.

    Its mode follows from it:
    - reading: the next page starts at `position`, and only needs to be in time order (and, on the first page with
      `after`, to check the seam with the cursor: one record early, no later than `after`; none after it that is).
    - holding a second: the last page ended inside `expected`, or may have; the next page starts at that second's
      first record (`position`) and reads it whole. It must begin with it: otherwise records appeared or went missing
      before `position`. If the second filled the page, the next asks for the largest page (`LARGEST_PAGE`).
    - carrying a second: `expected` has more records than the largest page, so it is read by position, over several
      pages, in the order `orderBy` gives with tie-breaking columns; `carried` holds this read's records so far, from
      `start`. Positions inside a second hold only if that order holds and nothing lands in the second, or before it,
      while it is read, and no page can show that alone (its records may all look alike). So the second is read from
      its start again until two whole reads agree, record for record (`reference`: the read before); a change that
      landed shows as a difference, or as a read that does not begin with the second. After
      `READS_OF_A_LARGE_SECOND` reads no order can be had: the last read goes on as it is, `doubtful`.
    """

    position: int  # the offset of the first record neither yielded nor carried
    page_size: int  # what a page asks for when no second needs more
    wanted: int  # what the next page asks for
    after: datetime | None = None  # the seam to check on the first page
    expected: datetime | None = None  # the second the next page must begin with (held or carried)
    carried: tuple[Entry, ...] | None = None  # the records of `expected` read so far, when carrying it
    start: int = 0  # where the carried second begins
    reference: tuple[Entry, ...] | None = None  # the carried second's last whole read, which this one must repeat
    reads: int = 0  # how many whole reads of the carried second were made
    doubtful: datetime | None = None  # the last carried second whose reads never agreed
    done: bool = False  # the result was read to its end

    @property
    def mode(self) -> str:
        if self.done:
            return "done"
        if self.carried is not None:
            return "carrying"
        return "holding" if self.expected is not None else "reading"

    @property
    def overlap(self) -> int:
        """How many records a page starts early: the seam record, on the first page after the cursor."""
        return 1 if self.after is not None and self.position > 0 else 0


class PageAsk(NamedTuple):
    """The page `plan_page` asks for: offset, first, and whether to order ties by the tie-breaking columns."""

    offset: int
    first: int
    tie_break: bool


def start_pager(position: int, after: datetime | None, page_size: int) -> PagerState:
    return PagerState(position=position, page_size=page_size, wanted=page_size, after=after)


def plan_page(state: PagerState) -> PageAsk:
    """The next page. A held second that filled a page, and a carried one, are asked with tie-breaking columns: if
    the held one fills the largest page too, its records are the start of the carried one (ordinary pages ask
    `changeTimestamp` alone: other columns cost a refusal to learn, and perhaps the server's sort)."""
    tie_break = state.mode == "carrying" or (state.mode == "holding" and state.wanted == LARGEST_PAGE)
    return PageAsk(state.position - state.overlap, state.wanted, tie_break)


def absorb(state: PagerState, entries: list[Entry], end: bool, asked: int, largest: int) -> tuple[PagerState, list[Second]]:
    """The state after a page `plan_page(state)` asked for (`asked` records, the server giving at most `largest` a page),
    and the whole seconds the page completes, oldest first. `end`: the page ends the result.
    Raises AuditTrailShiftedError when records appeared or went missing before the position."""
    if state.carried is not None:
        return absorb_carried(state, entries, end, asked, largest)
    ordered = plan_page(state).tie_break
    if state.after is not None:
        entries = check_seam(entries, state.after, state.overlap == 1)
    elif state.expected is not None:
        check_page_start(entries, state.expected)
    state = replace(state, after=None)
    return take_seconds(state, whole_seconds(entries), end, asked, largest, [], ordered)


def absorb_carried(
    state: PagerState, entries: list[Entry], end: bool, asked: int, largest: int
) -> tuple[PagerState, list[Second]]:
    """`absorb` while carrying a second larger than a page: adds the page's part of the second; once the page shows
    the second's end, reads it again from its start, or, when this read repeats the one before, yields it and goes on
    with the rest of the page."""
    carried, second = state.carried or (), state.expected
    assert second is not None  # a carried second is the expected one
    if not carried:  # a read from the second's start: the page must begin with it
        check_page_start(entries, second)
    seconds = whole_seconds(entries)
    if seconds and seconds[0].start < second:
        raise AuditTrailShiftedError(f"a page inside {format_time(second)} went on with {seconds[0].text}")
    position = state.position
    if seconds and seconds[0].start == second:
        more: Sequence[Entry] = seconds.pop(0).entries
        if not seconds and not end:
            more = held_back_tail(more)  # the page ends inside the second
        carried, position = (*carried, *more), position + len(more)
    if not seconds and not end:
        return replace(state, carried=carried, position=position), []
    reads = state.reads + 1
    agreed = state.reference is not None and [entry.fp for entry in carried] == [entry.fp for entry in state.reference]
    if not agreed and reads < READS_OF_A_LARGE_SECOND:  # read it again from its start
        return replace(state, carried=(), reference=carried, reads=reads, position=state.start), []
    if not agreed:  # never twice alike: the last read goes on as it is
        state = replace(state, doubtful=second)
    state = replace(state, position=position, expected=None, carried=None, reference=None, reads=0)
    return take_seconds(state, seconds, end, asked, largest, [Second(second, carried)], True)


def take_seconds(
    state: PagerState, seconds: list[Second], end: bool, asked: int, largest: int, complete: list[Second], ordered: bool
) -> tuple[PagerState, list[Second]]:
    """Yields the page's whole seconds (all of them at the end of the result; else all but the last, which may go
    on in the next page: it is held, or carried when it fills the largest page: from this page's records if they
    were asked in the tie-breaking order (`ordered`), else from its start). `complete`: seconds already whole."""
    whole = seconds if end else seconds[:-1]
    complete = [*complete, *whole]
    state = replace(state, position=state.position + sum(len(second.entries) for second in whole))
    if end or not seconds:
        return replace(state, expected=None, wanted=state.page_size, done=end), complete
    last = seconds[-1]
    if len(complete) > 0:  # the second did not fill the page
        return replace(state, expected=last.start, wanted=state.page_size), complete
    if asked < largest:  # it filled the page: ask again for as much as the server gives
        return replace(state, expected=last.start, wanted=LARGEST_PAGE), complete
    kept = tuple(held_back_tail(last.entries)) if ordered else ()
    carrying = replace(state, expected=last.start, carried=kept, start=state.position, position=state.position + len(kept))
    return carrying, complete


def held_back_tail(entries: Sequence[Entry]) -> Sequence[Entry]:
    """The records of a page that ends inside a large second, less its trailing records of one exact changeDate.

    Where changeDate is finer than a second, the next page then starts where that exact time starts, so a page
    boundary never falls inside records that share a time. With whole-second times every record shares it, and all
    are kept: the order of the tie-breaking columns (checked) is what makes positions inside the second hold.
    """
    exact = entries[-1].when
    cut = len(entries)
    while cut > 0 and entries[cut - 1].when == exact:
        cut -= 1
    return entries[:cut] if cut else entries


def check_seam(entries: list[Entry], after: datetime, overlap: bool) -> list[Entry]:
    """The records after the cursor's position, once checked: the one before it (`overlap`) is no later than the
    cursor's last second, and none after it is."""
    if overlap:
        if not entries or entries[0].second > after:
            raise AuditTrailShiftedError(f"records up to {format_time(after)} went missing before the cursor")
        entries = entries[1:]
    early = sum(1 for entry in entries if entry.second <= after)
    if early:
        raise AuditTrailShiftedError(f"{early} record(s) at or before {format_time(after)} appeared after the cursor passed it")
    return entries


def check_page_start(entries: list[Entry], expected: datetime) -> None:
    first = entries[0].second if entries else None
    if first != expected:
        raise AuditTrailShiftedError(
            f"a page that should begin with {format_time(expected)} began with {format_time(first) if first else 'nothing'}"
        )


def read_seconds(
    client: AuditTrailClient,
    plan: FetchPlan,
    from_day: date,
    position: int,
    after: datetime | None,
    until: datetime | None = None,
) -> Iterator[list[Second]]:
    """The whole seconds of the ascending result of fromDate=`from_day`, from `position` on, lazily: a list of the
    seconds each page completes (never an empty one), so that callers do their work once per page.

    The driver of `plan_page`/`absorb` (`PagerState` says how pages follow each other): it asks the pages (with the
    tie-breaking columns the server accepts, `tie_columns`), tells a short page from the end (`read_page`), and says
    in the log and the instance's health which second could not be read exactly.
    With `after` (the cursor's last second), the first page checks the seam. Records that appeared or went missing
    before `position` raise AuditTrailShiftedError. A second larger than a page that is after `until` (the caller
    takes nothing after it) ends the reading instead of being read: it may still be growing, and reads of it would
    not agree.
    """
    state = start_pager(position, after, plan.page_size)
    for _ in range(MAX_PAGES_PER_RUN):
        if client.out_of_time():
            raise OutOfTimeError("The run's time budget is spent; the next run goes on.")
        ask = plan_page(state)
        asked = client.pages.ask(ask.first)
        query = plan.query(from_day, asked, ask.offset)
        if ask.tie_break:
            query = ordered_by(query, tie_columns(client, query))
        try:
            records, end = read_page(client, query)
        except QueryRefusedError:
            if len(query.order_by) == 1:
                raise
            client.ties.forget()  # a column accepted before is refused now: each is judged again
            query = ordered_by(query, tie_columns(client, query))
            records, end = read_page(client, query)
        before = state
        entries = make_entries(records, state.after if ask.offset < state.position else None)  # the seam record's
        state, seconds = absorb(state, entries, end, asked, client.pages.ask(LARGEST_PAGE))
        if state.doubtful is not None and state.doubtful != before.doubtful:
            say_not_exact(state.doubtful, query.order_by)
        if seconds:
            yield seconds
        if state.mode == "done" or (state.mode == "carrying" and until and state.expected and state.expected > until):
            return
    raise OutOfTimeError(f"The run read {MAX_PAGES_PER_RUN} pages, its limit; the next run goes on.")


def ordered_by(query: AuditQuery, columns: tuple[str, ...]) -> AuditQuery:
    """`query` in ascending changeTimestamp, then `columns`."""
    order = ("changeTimestamp", *columns)
    return replace(query, order_by=order, order_direction=("ASC",) * len(order))


def tie_columns(client: AuditTrailClient, query: AuditQuery) -> tuple[str, ...]:
    """The tie-breaking columns the Audit Trail accepts, learned the first time a second needs them.

    Each column not judged yet is asked after the ones accepted (one small page): a refusal is checked against the
    same query without that column, and only when that one is accepted is the column dropped, and remembered
    (`TieOrderLearner`). Where the client knows that orderBy takes a single column, none is asked.
    """
    ties = client.ties
    if not orders_by_several_columns(client):
        return ()
    for column in ties.unjudged():
        trial = replace(query, first=MIN_PAGE_SIZE)
        try:
            client.query_audit(ordered_by(trial, (*ties.accepted, column)))
        except QueryRefusedError as refused:
            client.query_audit(ordered_by(trial, ties.accepted))  # refused too: not the column's doing
            ties.judge(column, accepted=False, why=short_reason(refused))
        else:
            ties.judge(column, accepted=True)
    return ties.accepted


def orders_by_several_columns(client: AuditTrailClient) -> bool:
    """False when the client learned that orderBy (or orderDirection) takes one value: `order_columns_allowed` is 1
    then, and None when a query may carry any number of columns."""
    return client.order_columns_allowed is None


def say_not_exact(second: datetime, order: tuple[str, ...]) -> None:
    """Says in the log and the instance's health which second could not be read exactly."""
    message = (
        f"The second {format_time(second)} could not be read exactly: it has more records than the largest page LivePerson "
        f"returns, and {READS_OF_A_LARGE_SECOND} reads of it never gave the same records in the same order (orderBy "
        f"{', '.join(order)}). The last read is delivered as it came, so one of its records may be delivered twice and "
        "another not at all."
    )
    demisto.error(message)
    demisto.updateModuleHealth(message, is_error=True)


def open_reader(
    client: AuditTrailClient, plan: FetchPlan, cursor: Cursor, until: datetime | None = None
) -> Iterator[list[Second]] | None:
    """The seconds after the cursor, once the seam checks out; None when records appeared or went missing before it.

    The position depends on the zone LivePerson reads fromDate in; where the zones give different positions and the
    learned one does not check out, the other is tried, and learned when it does.
    """
    for zone, position in cursor.positions():
        reader = read_seconds(client, plan, cursor.base_day, position, cursor.last_time, until)
        try:
            first = next(reader, None)
        except AuditTrailShiftedError as shift:
            demisto.debug(f"Resuming at position {position} of {cursor.base} ({zone} days): {shift}")
            continue
        if zone != cursor.zone:
            demisto.info(f"LivePerson reads fromDate as a {zone} day; positions are counted that way from now on.")
            cursor.zone = zone
        return reader if first is None else itertools.chain([first], reader)
    return None


def offset_of(client: AuditTrailClient, plan: FetchPlan, from_day: date, moment: datetime) -> int:
    """The offset, in the ascending result of fromDate=`from_day`, of the first record at or after `moment`'s second.

    The result is ordered by time, so one record (`first: 1`) at an offset tells on which side of `moment` that
    offset lies: offsets 1, 2, 4, ... are asked until one is at or after it (or past the end), then the interval is
    halved. About 2*log2(n) calls for n records before `moment`; X-Total-Count is not used (its meaning is not
    documented). Records that appear meanwhile can only move the answer by their number, which the reading after it
    checks as it always does (whole seconds, in order)."""

    def before(offset: int) -> bool:
        records, _ = client.query_page(plan.query(from_day, 1, offset))
        return bool(records) and make_entries(records[:1])[0].second < moment

    if not before(0):
        return 0
    low, high = 0, 1  # the record at `low` is before `moment`; `high` is the first offset not yet known to be
    while before(high):
        if client.out_of_time():
            raise OutOfTimeError("The time budget was spent while the start time was looked for.")
        low, high = high, high * 2
    while high - low > 1:  # the record at `high` is at or after `moment`, or there is none
        middle = (low + high) // 2
        low, high = (middle, high) if before(middle) else (low, middle)
    return high


""" RECONCILE """


def reread(
    client: AuditTrailClient, plan: FetchPlan, saved: Cursor
) -> tuple[list[Entry], Cursor, OutOfTimeError | AuditTrailShiftedError | TransientError | None]:
    """Re-reads the cursor's days up to its last second: returns the records it had not consumed, the cursor rebuilt
    from what was read, and why it stopped before the last second (None once it got there).

    It reads hour by hour (`ReRead`). When its budget (the run's time, `RECONCILE_PAGES_PER_RUN` pages) or a failure
    ends the re-read first, the cursor it returns says where it got to (`recount`) and the next run goes on from
    there; the late records of the hours read so far go out with it. Where records moved before where it had got
    to, it starts over; where they moved while it read, it reads this run's part again (either once a run).
    """
    last = saved.last_time
    if last is None:
        return [], saved, None
    from_day = saved.base_day if saved.zone == "UTC" else saved.base_day - timedelta(days=1)
    pages, again = 0, False  # pages read in this run; whether it began again already
    while True:
        reread = ReRead(saved)
        read = 0  # pages read since it (last) began
        try:
            if saved.skipped and not saved.recount:
                saved = count_skipped_again(client, plan, from_day, saved)
                reread = ReRead(saved)
            for seconds in read_seconds(client, plan, from_day, reread.position, reread.resume_after, last):
                pages, read = pages + 1, read + 1
                for second in seconds:
                    if second.start > last:
                        return reread.finish()
                    reread.add(second)
                if pages >= RECONCILE_PAGES_PER_RUN:
                    raise OutOfTimeError(f"reconciling read {pages} pages, its budget for one run")
            return reread.finish()
        except AuditTrailShiftedError as shift:
            if again:
                late, progress = reread.stop()
                return late, progress, shift
            again = True
            if read == 0 and saved.recount:  # records moved before the hour it had got to: what it read is stale
                demisto.info(f"Reconciling starts over from {saved.base}: {shift}.")
                saved = reread.start_over()
            else:  # the Audit Trail changed while it was re-read: this run's part is read again, once
                demisto.info(
                    f"Reconciling reads again from where this run began: the Audit Trail changed while it was re-read ({shift})."
                )
        except (OutOfTimeError, TransientError) as error:
            late, progress = reread.stop()
            return late, progress, error


def count_skipped_again(client: AuditTrailClient, plan: FetchPlan, from_day: date, saved: Cursor) -> Cursor:
    """The saved cursor, to be re-read from the end of the records its first run skipped, which are counted again by
    bisection, as that run counted them (the zone is UTC while there are skipped records: `from_day` is `base`)."""
    assert saved.skipped is not None  # the caller reconciles a cursor with skipped records
    hour = saved.skipped[1]
    count = offset_of(client, plan, from_day, saved.hour_start(hour))
    return replace(saved.copy(), recount=[count, hour], skipped=[count, hour])


class ReRead:
    """One run's part of a reconcile: the seconds re-read in order, closed hour by hour into a fresh cursor.

    An hour whose new digest differs from the saved one changed; its records are kept until its day is closed. A day
    re-read whole in this run names its late records by the difference of its sketches; a day begun in an earlier
    run, or left when the run stops, names them hour by hour (`unaccounted`, else the hour is resent whole).
    """

    def __init__(self, saved: Cursor):
        self.saved = saved
        self.position, self.boundary = saved.recount or (0, 0)  # the offset of hour `boundary`'s first record
        first_day = saved.day_of_hour(self.boundary)
        self.partial_day = None if saved.sketch_begins(self.boundary) else first_day  # begun in an earlier run
        self.resume_after = saved.hour_start(self.boundary) - timedelta(seconds=1) if self.boundary else None
        self.region = saved.hour_start(0)  # records before base 00:00 UTC (a US/Eastern day) are not the cursor's
        self.fresh = Cursor(
            since=saved.since,
            base=saved.base,
            zone=saved.zone,
            skipped=None if saved.skipped is None else list(saved.skipped),
            hours={hour: list(digest) for hour, digest in saved.hours.items() if hour < self.boundary},
            sketches={
                day: None if sketch is None else sketch.clone()
                for day, sketch in saved.sketches.items()
                if day < first_day or day == self.partial_day
            },
        )
        self.late: list[Entry] = []
        self.changed: dict[int, list[tuple[Entry, int]]] = {}  # the open day's changed hours, with their records
        self.hour: int | None = None  # the open hour
        self.seconds: list[Second] = []  # its seconds

    def add(self, second: Second) -> None:
        if second.start < self.region:
            self.position += len(second.entries)
            return
        hour = self.fresh.hour_of(second.start)
        if hour != self.hour:
            self.close_hour()
            if self.hour is not None and hour // 24 != self.hour // 24:
                self.close_day(whole=True)
            self.hour = hour
        self.seconds.append(second)

    def close_hour(self) -> None:
        if not self.seconds or self.hour is None:
            return
        self.fresh.consume(self.seconds)
        if not same_digest(self.fresh.hours.get(self.hour), self.saved.hours.get(self.hour)):
            pairs = [pair for second in self.seconds for pair in zip(second.entries, second.keys(), strict=True)]
            self.changed[self.hour] = pairs
        self.position += sum(len(second.entries) for second in self.seconds)
        self.boundary = self.hour + 1
        self.seconds = []

    def close_day(self, whole: bool) -> None:
        """Names the late records of the open hour's day."""
        if self.hour is None or not self.changed:
            return
        day = self.saved.day_of_hour(self.hour)
        sketched = whole and day != self.partial_day
        before = self.saved.sketches.get(day, KeySketch()) if sketched else None
        self.late.extend(name_late_records(self.saved, before, self.fresh.sketches.get(day), day, self.changed))
        self.changed = {}

    def finish(self) -> tuple[list[Entry], Cursor, None]:
        self.close_hour()
        self.close_day(whole=True)
        self.fresh.last = self.saved.last
        begun = (self.saved.recount or [0, 0])[1]  # the hours before were re-read in earlier runs
        missing = len(self.late) + sum(count for hour, (count, _) in self.saved.hours.items() if hour >= begun)
        missing -= sum(count for hour, (count, _) in self.fresh.hours.items() if hour >= begun)
        if missing > 0:
            demisto.info(f"Reconciling: {missing} record(s) read before are no longer in the Audit Trail's result.")
        self.late.sort(key=lambda entry: entry.when)
        return self.late, self.fresh, None

    def stop(self) -> tuple[list[Entry], Cursor]:
        """The late records found so far and the saved cursor with what was re-read: the open hour is read again."""
        self.seconds = []
        self.close_day(whole=False)
        boundary, saved, fresh = self.boundary, self.saved, self.fresh
        first_day, mid_day = saved.day_of_hour(boundary), not saved.sketch_begins(boundary)
        progress = saved.copy()
        progress.hours = {hour: digest for hour, digest in saved.hours.items() if hour >= boundary}
        progress.hours.update(fresh.hours)
        progress.sketches = {
            day: sketch for day, sketch in saved.sketches.items() if day > first_day or (day == first_day and not mid_day)
        }
        progress.sketches.update(
            (day, sketch) for day, sketch in fresh.sketches.items() if day < first_day or (day == first_day and mid_day)
        )
        progress.recount = [self.position, boundary] if boundary else None
        self.late.sort(key=lambda entry: entry.when)
        return self.late, progress

    def start_over(self) -> Cursor:
        """The saved cursor, to be re-read from its first day again; the day it stood in has no whole sketch."""
        cursor = self.saved.copy()
        if self.partial_day is not None:
            cursor.sketches[self.partial_day] = None
        cursor.recount = None
        return cursor


def same_digest(fresh: list[Any] | None, saved: list[Any] | None) -> bool:
    """Whether an hour read again holds what was consumed: same count and hash (count alone where the hash is unknown)."""
    if fresh is None or saved is None:
        return fresh is saved
    return fresh[0] == saved[0] and (saved[1] is None or fresh[1] == saved[1])


def name_late_records(
    saved: Cursor, before: KeySketch | None, after: KeySketch | None, day: str, hours: dict[int, list[tuple[Entry, int]]]
) -> list[Entry]:
    """The records of `day`'s changed `hours` that the saved cursor had not consumed: named by the difference of the
    day's sketches (`before`, `after`: None where unknown), else hour by hour."""
    difference = after.minus(before).peel() if before is not None and after is not None else None
    if difference is not None:
        added = set(difference[0])
        named = [entry for pairs in hours.values() for entry, key in pairs if key in added]
        if len(named) == len(added):
            if named:
                demisto.info(f"Reconciling {day}: {len(named)} late record(s) named exactly.")
            return named
    late: list[Entry] = []
    for hour, pairs in sorted(hours.items()):
        entries = [entry for entry, _ in pairs]
        count, total = saved.hours.get(hour, [0, 0])
        new = unaccounted(entries, count, total)
        if new is None:
            demisto.info(f"Reconciling {day}: hour {hour % 24:02d} changed beyond naming; resending its {len(entries)} records.")
            new = entries
        elif new:
            demisto.info(f"Reconciling {day}: hour {hour % 24:02d} has {len(new)} late record(s), named by its digest.")
        late.extend(new)
    return late


""" FETCH LOOP """


def event_line(record: dict[str, Any], when: datetime, text: str = "") -> str:
    """The event of a record as one NDJSON line, exactly `json.dumps(to_event(record, when))`, serialised once.

    `text` is the record's JSON if it was made already. The line is both measured (to fill a batch) and sent as
    it is, so the platform does not serialise it again.
    """
    if not record or "_time" in record:
        return json.dumps(to_event(record, when))
    return (text or record_json(record))[:-1] + ', "_time": "' + format_time(when) + '"}'


class Batch:
    """Event lines waiting to be sent; full when another would make the send larger than one platform chunk.

    A line's `size` is what the platform's chunking counts for it: `len(line) + LINE_OVERHEAD`.
    """

    def __init__(self, max_events: int):
        self.events: list[str] = []
        self._bytes = 0
        self._max_events = max_events

    def fits(self, size: int, count: int = 1) -> bool:
        """Whether `count` more lines of `size` bytes in all fit; one line always fits an empty batch."""
        if count == 1 and not self.events:
            return True
        return len(self.events) + count <= self._max_events and self._bytes + size <= SEND_BATCH_BYTES

    def add(self, line: str, size: int) -> None:
        self.events.append(line)
        self._bytes += size

    def add_all(self, lines: list[str]) -> bool:
        """Adds all the lines if they fit together; otherwise adds none."""
        size = sum(map(len, lines)) + LINE_OVERHEAD * len(lines)
        if not self.fits(size, len(lines)):
            return False
        self.events.extend(lines)
        self._bytes += size
        return True

    def add_group(self, lines: list[str]) -> list[list[str]]:
        """Adds lines that belong together (a second's, or the late records'). Returns the batches that must go out
        first, with the cursor from before this group: usually none; the batch so far when the group does not fit
        it; and, for a group larger than one send, its first parts (all of it is resent if a later part fails)."""
        if self.add_all(lines):
            return []
        ready = [self.take()] if self.events else []
        for line in lines:
            size = len(line) + LINE_OVERHEAD
            if not self.fits(size):
                ready.append(self.take())
            self.add(line, size)
        return ready

    def take(self) -> list[str]:
        events, self.events, self._bytes = self.events, [], 0
        return events


@dataclass
class RunReport:
    """What a run did, for the log and for telling a stall from a quiet account."""

    delivered: int = 0
    seconds: int = 0
    reconciled: bool = False
    stopped: str = "end"  # end, settle, limit, time, reconcile, shifted
    failure: Exception | None = None  # what stopped the reading, while what it read is still sent


class Run:
    """One fetch-events run: the cursor as it moves, the events waiting to be sent, and what happened."""

    def __init__(self, client: AuditTrailClient, plan: FetchPlan, saved: Cursor, now: datetime, report: RunReport):
        self.client, self.plan, self.saved, self.report = client, plan, saved, report
        self.horizon = (now - timedelta(seconds=plan.settle_seconds)).replace(microsecond=0)
        self.working = saved.copy()
        self.batch = Batch(MAX_BATCH_EVENTS)

    def batches(self) -> Iterator[tuple[list[str], Cursor]]:
        """Consume from the cursor on; on a shift, reconcile once and go on (a reconcile left by the last run goes on
        first); stop at the settle delay, the limit, the end or the time budget."""
        try:
            self.skip_to_since()
            reader = None if self.working.recount else open_reader(self.client, self.plan, self.working, self.horizon)
            while True:
                if reader is None:
                    if self.report.reconciled:
                        yield from self.flush()
                        self.stop_if_stalled("the Audit Trail kept changing before the cursor while it was re-read")
                        demisto.info("The Audit Trail kept changing before the cursor; the next run goes on from here.")
                        return
                    if not (yield from self.reconcile()):
                        return
                    reader = open_reader(self.client, self.plan, self.working, self.horizon)
                    continue
                try:
                    yield from self.collect(reader)
                    break
                except AuditTrailShiftedError as shift:
                    demisto.info(f"The Audit Trail moved during the run: {shift}.")
                    yield from self.flush()
                    reader = None
        except OutOfTimeError as error:
            self.report.stopped = "time"
            demisto.info(str(error))
            yield from self.flush()
            self.stop_if_stalled(f"the run stopped before it could consume a whole second: {error}")
            return
        except TransientError as error:
            self.report.failure = error  # a send refused while the batches read so far go out must not hide it
            yield from self.flush()
            raise
        yield from self.flush()

    def skip_to_since(self) -> None:
        """A first run whose first fetch time is late in its day does not read that day up to it: the records before
        the hour it is in are counted by bisection (`offset_of`, about 2·log2(n) calls) and kept as the cursor's
        `skipped`; the run reads from that hour's first record."""
        cursor = self.working
        hour = cursor.hour_of(cursor.since_time)
        if cursor.last is not None or cursor.hours or cursor.skipped or not 0 < hour < 24:  # not a first run; no day to skip
            return
        count = offset_of(self.client, self.plan, cursor.base_day, cursor.hour_start(hour))
        cursor.skipped = [count, hour]
        demisto.debug(
            f"First run: {count} record(s) of {cursor.base} before {format_time(cursor.hour_start(hour))} counted, not read."
        )

    def collect(self, reader: Iterator[list[Second]]) -> Iterator[tuple[list[str], Cursor]]:
        """Consumes the reader's seconds in order, page by page, up to the settle delay and about `max_events`."""
        for seconds in reader:
            chosen, groups, stop = self.choose(seconds)
            yield from self.queue(chosen, groups)
            if stop:
                self.report.stopped = stop
                return

    def choose(self, seconds: list[Second]) -> tuple[list[Second], list[Sequence[Entry]], str | None]:
        """The page's seconds this run consumes, the records of each to deliver, and why it stops, if it does.

        As good as always a whole page is chosen as it is: it is older than the settle delay and than `since`, and
        within the limit. Otherwise it is chosen second by second.
        """
        report, since = self.report, self.saved.since_time
        count = sum(len(second.entries) for second in seconds)
        if seconds[0].start >= since and seconds[-1].start <= self.horizon and report.delivered + count <= self.plan.max_events:
            report.delivered += count
            report.seconds += len(seconds)
            return seconds, [second.entries for second in seconds], None
        chosen: list[Second] = []
        groups: list[Sequence[Entry]] = []
        for second in seconds:
            if second.start > self.horizon:
                return chosen, groups, "settle"
            new = deliverable(second, since)
            if report.seconds and report.delivered + len(new) > self.plan.max_events:
                return chosen, groups, "limit"
            chosen.append(second)
            groups.append(new)
            report.delivered += len(new)
            report.seconds += 1
        return chosen, groups, None

    def queue(self, seconds: list[Second], groups: list[Sequence[Entry]]) -> Iterator[tuple[list[str], Cursor]]:
        """Adds the seconds' events (`groups`) to the batch and consumes the seconds. A full batch goes out with the
        cursor of exactly the seconds whose events it holds: a second's events are never split between batches,
        unless they alone are larger than one send."""
        if self.batch.add_all([entry.line for group in groups for entry in group]):  # as good as always
            self.working.consume(seconds)
            return
        done = 0  # how many of the seconds the cursor has consumed
        for index, group in enumerate(groups):
            ready = self.batch.add_group([entry.line for entry in group])
            if ready:
                self.working.consume(seconds[done:index])
                done = index
                for lines in ready:
                    yield lines, self.working.copy()
        self.working.consume(seconds[done:])

    def reconcile(self) -> Generator[tuple[list[str], Cursor], None, bool]:
        """Reconciles once per run: the late records go out with the cursor rebuilt from what was read. Returns
        whether it got to the cursor's last second; if not, the run ends there and the next one goes on."""
        working = self.working
        if working.recount:
            demisto.info(f"Reconciling goes on from {format_time(working.hour_start(working.recount[1]))}.")
        else:
            demisto.info(f"Records appeared or went missing before the cursor ({working.last}); reconciling from {working.base}.")
        self.report.reconciled = True
        late, rebuilt, stop = reread(self.client, self.plan, working)
        new = [entry for entry in late if entry.when >= self.saved.since_time]
        for lines in self.batch.add_group([entry.line for entry in new]):
            yield lines, self.working.copy()
        self.report.delivered += len(new)
        self.working = rebuilt
        if stop is None:
            return True
        got_to = format_time(rebuilt.hour_start(rebuilt.recount[1])) if rebuilt.recount else rebuilt.base
        if isinstance(stop, AuditTrailShiftedError):
            self.report.stopped = "shifted"
            cause = f"the Audit Trail changed while it was re-read ({stop})"
        else:
            self.report.stopped = "reconcile"
            cause = "the run's time budget is spent" if self.client.out_of_time() else str(stop)
        demisto.info(f"Reconciling got to {got_to} and stopped there: {cause}; the next run goes on from there.")
        if isinstance(stop, TransientError):
            self.report.failure = stop
        yield from self.flush()
        if isinstance(stop, TransientError):
            raise stop
        self.stop_if_stalled(f"reconciling could not re-read one whole hour from {got_to} in a run: {cause}")
        return False

    def flush(self) -> Iterator[tuple[list[str], Cursor]]:
        """The events still waiting, with the cursor that holds once they are sent; the cursor alone if it moved."""
        if self.batch.events or self.working.to_json() != self.saved.to_json():
            yield self.batch.take(), self.working.copy()

    def stop_if_stalled(self, cause: str) -> None:
        """A run that delivered nothing and could not move the cursor says so: the platform shows the error in the
        instance's health, instead of a run that looks fine while the collector stands still."""
        if self.report.delivered == 0 and self.working.to_json() == self.saved.to_json():
            raise StalledError(f"The collector cannot make progress past {self.saved.last or self.saved.since}: {cause}.")


def fetch_batches(
    client: AuditTrailClient, plan: FetchPlan, saved: Cursor, now: datetime, report: RunReport | None = None
) -> Iterator[tuple[list[str], Cursor]]:
    """Yields (events, cursor after them): send the events, and only then save that cursor.

    Whole seconds older than the settle delay are consumed, oldest first, at most about `plan.max_events` events a
    run (a second is never split between runs). Records older than the first fetch time are consumed without being
    delivered. When records moved before the cursor, the run reconciles once; a run that cannot move the cursor
    although records are waiting ends with an error that says why.
    """
    return Run(client, plan, saved, now, report if report is not None else RunReport()).batches()


def deliverable(second: Second, since: datetime) -> Sequence[Entry]:
    """The records of a second to deliver: not those older than the first fetch time."""
    if second.start >= since:  # as good as always: every record of the second is new
        return second.entries
    return [entry for entry in second.entries if entry.when >= since]


""" COMMANDS """


def load_cursor(last_run: dict[str, Any] | None, settings: Settings) -> Cursor:
    """The saved cursor, or a new one that starts at the first fetch time."""
    if not last_run:
        return Cursor.start(settings.first_fetch)
    return Cursor.from_json(last_run)


class SendInFlight:
    """Hands the run's batches to the platform's send in order, one at a time, on a thread of its own, and saves the
    cursor after a batch only once the platform has accepted it.

    The platform's send (joining, chunking, compressing and uploading a batch) runs beside the reading of the next
    batch, so the reading no longer waits for the upload. The next batch goes out only once the one before it was
    accepted: the platform never holds more than one batch of ours, and the last run moves only past accepted
    batches, in order. A refused batch raises, and the next run reads it again. The platform library's
    `support_multithreading` makes its calls to the server safe from both threads.
    """

    def __init__(self) -> None:
        self.pool: concurrent.futures.ThreadPoolExecutor | None = None
        self.pending: tuple[concurrent.futures.Future | None, Cursor, int] | None = None  # the upload, its cursor, its size
        self.sent = 0
        self.saved: Cursor | None = None

    def send(self, lines: list[str], cursor: Cursor) -> None:
        """Sends a batch of event lines (none: only the cursor moved), once the batch before it is accepted and saved."""
        self.wait()
        upload = None
        if lines:
            if self.pool is None:
                support_multithreading()
                self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="xsiam-send")
            # Event lines already serialised (data format "json"): the platform sends them as they are. Module health is
            # reported once, at the end of the run.
            upload = self.pool.submit(
                send_events_to_xsiam, lines, VENDOR, PRODUCT, data_format="json", should_update_health_module=False
            )
        self.pending = (upload, cursor, len(lines))

    def wait(self) -> None:
        """Waits for the batch in flight; once the platform accepted it, saves the cursor after it."""
        if self.pending is None:
            return
        upload, cursor, count = self.pending
        self.pending = None
        if upload is not None:
            upload.result()  # the platform's error, if it refused the batch: the cursor is not saved
        self.sent += count
        demisto.setLastRun(cursor.to_json())
        self.saved = cursor

    def close(self) -> None:
        """Waits for the batch in flight (its cursor is saved if it was accepted), then ends the sending thread."""
        try:
            self.wait()
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True)


def fetch_events_command(client: AuditTrailClient, settings: Settings) -> int:
    """One scheduled run: read, send batch by batch (`SendInFlight`), save the cursor after each accepted send."""
    last_run = demisto.getLastRun()
    cursor = load_cursor(last_run, settings)
    if not last_run:  # the first run fixes where collection starts, even if it consumes nothing (or fails)
        demisto.setLastRun(cursor.to_json())
        remember_first_fetch(settings, cursor)
    elif notice := first_fetch_notice(last_run, settings):
        demisto.info(notice)
    plan = FetchPlan(settings.filters, settings.max_fetch, settings.page_size, settings.settle_seconds)
    now = utc_now()
    report = RunReport()
    sender = SendInFlight()
    try:
        try:
            for lines, next_cursor in fetch_batches(client, plan, cursor, now, report):
                sender.send(lines, next_cursor)
        except Exception as stopped:
            # The reading's failure (kept by the run while it sends what it read), a refused send, and the batch still
            # in flight (saved if it was accepted): no error may hide another.
            causes = [stopped] if report.failure is None or report.failure is stopped else [report.failure, stopped]
            try:
                sender.close()
            except Exception as refused:
                causes.append(refused)
            if len(causes) == 1:
                raise
            reasons = " Also: ".join(map(str, causes))
            raise LivePersonError(f"The run stopped for {len(causes)} reasons: {reasons}") from causes[0]
        sender.close()
    finally:
        demisto.updateModuleHealth({"eventsPulled": sender.sent})
        if warning := client.schema_warning():  # every run, so the instance's health keeps saying it
            demisto.updateModuleHealth(warning)
            demisto.info(warning)
        demisto.debug(
            f"fetch-events sent {sender.sent} events with {client.calls} API calls; "
            f"{lag_summary(sender.saved or cursor, report, client, now)}"
        )
    return sender.sent


def remember_first_fetch(settings: Settings, cursor: Cursor) -> None:
    """Keeps the first fetch setting the new start was fixed with, so a later change of the setting can be told."""
    context = demisto.getIntegrationContext()
    context[FIRST_FETCH_KEY] = {"setting": settings.first_fetch_setting, "since": cursor.since}
    demisto.setIntegrationContext(context)


def first_fetch_notice(last_run: dict[str, Any] | None, settings: Settings) -> str | None:
    """What to tell the user when "First fetch time" was changed after this instance fixed its start; None otherwise.

    The saved start wins (the cursor resumes where it is); only a reset of the last run starts again from the setting.
    """
    since = last_run.get("since") if isinstance(last_run, dict) else None
    started = demisto.getIntegrationContext().get(FIRST_FETCH_KEY)
    if not since or not isinstance(started, dict) or started.get("since") != since:
        return None  # not started yet, or started before the setting was kept: nothing to compare with
    if started.get("setting") == settings.first_fetch_setting:
        return None
    return (
        f'"First fetch time" is now "{settings.first_fetch_setting}", but this instance started collecting at {since} '
        f'(with "{started.get("setting")}") and goes on from where it got to: a changed first fetch time applies only to '
        f"a new start. To start again from the new one, {RESET_LAST_RUN}; the events from then on are then sent again."
    )


def lag_summary(cursor: Cursor, report: RunReport, client: AuditTrailClient, now: datetime) -> str:
    """How far behind the collector is, for the debug log."""
    caught_up = cursor.last_time or cursor.since_time
    text = f"consumed up to {format_time(caught_up)}, {int((now - caught_up).total_seconds())} s behind now"
    reasons = {
        "settle": "the next records wait for the settle delay",
        "limit": "stopped at the maximum events per fetch",
        "time": "stopped at the run's time budget",
        "reconcile": "reconciling goes on in the next run",
        "shifted": "the Audit Trail changed while it was re-read; the next run goes on",
        "end": "read to the end",
    }
    text += f" ({reasons[report.stopped]})"
    if client.last_total is not None:
        text += (
            f"; the last answer's X-Total-Count was {client.last_total} (fromDate {cursor.base}, {cursor.position()} consumed)"
        )
    return text


def get_events(client: AuditTrailClient, settings: Settings, start: datetime, end: datetime, limit: int) -> list[dict]:
    """Events from `start` to `end`, oldest first, at most `limit`, without touching the last run.

    The reading starts at the offset of `start`'s second, found by bisection (`offset_of`), not by paging from
    midnight. A command that cannot finish within the time budget says so in its own words."""
    plan = FetchPlan(settings.filters, limit, min(settings.page_size, max(limit + 1, MIN_PAGE_SIZE)))
    from_day = first_query_day(start)
    events: list[dict[str, Any]] = []
    try:
        position = offset_of(client, plan, from_day, start.replace(microsecond=0))
        for second in itertools.chain.from_iterable(read_seconds(client, plan, from_day, position, None, end)):
            if second.start > end or len(events) >= limit:
                break
            events.extend(entry.event() for entry in second.entries if start <= entry.when <= end)
    except OutOfTimeError as error:
        raise LivePersonError(
            f"liveperson-get-events found {len(events)} of at most {limit} events before its time and page budget was "
            f'spent ({client.calls} API calls). Ask for a smaller "limit", or a later "start_time" or earlier "end_time".'
        ) from error
    return events[:limit]


def check_arguments(command: str, args: dict[str, Any], known: Sequence[str]) -> None:
    """Refuses an argument the command does not have, rather than ignoring it (a typo would silently do nothing)."""
    unknown = sorted(set(args) - set(known))
    if unknown:
        names = ", ".join(f'"{name}"' for name in unknown)
        raise SettingError(f"{command} has no argument {names}: use {', '.join(known)}.")


def get_events_command(client: AuditTrailClient, settings: Settings, args: dict[str, Any]) -> CommandResults:
    check_arguments("liveperson-get-events", args, GET_EVENTS_ARGUMENTS)
    now = utc_now()
    limit = parse_int(args.get("limit"), "limit", DEFAULT_GET_EVENTS_LIMIT, 1, MAX_GET_EVENTS_LIMIT)
    start = parse_time(args.get("start_time") or DEFAULT_GET_EVENTS_START, "start_time", now)
    end = parse_time(args.get("end_time"), "end_time", now) if not _is_blank(args.get("end_time")) else now
    if end <= start:
        raise SettingError(f'"end_time" ({format_time(end)}) must be later than "start_time" ({format_time(start)}).')
    push = parse_bool(args.get("should_push_events"), "should_push_events", False)
    events = get_events(client, settings, start, end, limit)
    if push and events:
        send_events_to_xsiam(events, vendor=VENDOR, product=PRODUCT)
    return CommandResults(
        outputs_prefix="LivePerson.AuditEvent",
        outputs=events,
        readable_output=tableToMarkdown(
            f"{INTEGRATION_NAME} events ({len(events)})", events, headers=TABLE_HEADERS, removeNull=False
        ),
        raw_response=events,
    )


def audit_check(client: AuditTrailClient, page_size: int) -> None:
    """One page of yesterday's records, asked with the page size and filters fetch-events uses, so a refused size or a
    filter the schema cannot carry shows here."""
    first = client.pages.ask(page_size)
    yesterday = (utc_now() - timedelta(days=1)).date()
    client.query_page(FetchPlan(client.filters, first, first).query(yesterday, first, 0))


def test_module(client: AuditTrailClient, page_size: int = DEFAULT_PAGE_SIZE) -> str:
    """Checks the three stages separately and says which one failed: nothing is sent, no last run is saved.

    main gives it a client that tries each call once with a short timeout (TRY_ONCE), so a wrong setting is named
    at once instead of after a scheduled run's retries.
    """
    authentication = f"Authentication ({client.auth.name})"
    stages: list[tuple[str, Callable[[], object]]] = [("Domain API lookup", client.look_up_hosts)]
    if isinstance(client.auth, TokenProvider):
        stages.append((authentication, client.auth.renew))
    else:  # an API key has nothing to ask for beforehand: the Audit Trail query checks its signature
        demisto.info(
            f'{authentication}: each request is signed; Sentinel is not used, so its lookup is skipped and "{SENTINEL_SETTING}" '
            "is ignored."
        )
    stages.append(("Audit Trail query", lambda: audit_check(client, page_size)))
    for name, check in stages:
        try:
            check()
        except AuthenticationError as error:
            return f"{authentication} failed: {error}"
        except LivePersonError as error:
            return f"{name} failed: {error}"
    if warning := client.schema_warning():  # the platform passes test-module only on exactly "ok": said in health and log
        demisto.updateModuleHealth(warning)
        demisto.info(warning)
    return "ok"


""" MAIN """


def redact(text: str, values: list[str]) -> str:
    """Removes every secret (client secret, the API key's values, tokens) from a message, whatever produced it; the
    longest first, so no part of one is left where a shorter one was inside it."""
    for value in sorted(values, key=len, reverse=True):
        if value and len(value) >= 4:
            text = text.replace(value, "<redacted>")
    return text


def main() -> None:
    command = demisto.command()
    params = demisto.params()
    hidden = secret_values(params)  # the client secret and the API key's four values
    demisto.debug(f"Command being called is {command}")
    try:
        settings = Settings.from_params(params)
        client = AuditTrailClient(settings, policy=TRY_ONCE if command == "test-module" else RETRY_AS_ADVISED)
        if command == "test-module":
            answer = test_module(client, settings.page_size)
            if answer == "ok" and (notice := first_fetch_notice(demisto.getLastRun(), settings)):
                demisto.info(notice)  # test-module answers "ok" or an error: the notice goes to the instance's health
                demisto.updateModuleHealth(notice)
            return_results(answer)
        elif command == "fetch-events":
            fetch_events_command(client, settings)
        elif command == "liveperson-get-events":
            return_results(get_events_command(client, settings, demisto.args()))
        else:
            raise NotImplementedError(f"Command {command} is not implemented.")
    except Exception as error:
        hidden.append(str(demisto.getIntegrationContext().get(TokenProvider.CACHE_KEY, {}).get("value") or ""))
        return_error(redact(f"Failed to execute {command} command.\nError:\n{error}", hidden))


if __name__ in ("__main__", "__builtin__", "builtins"):
    main()
