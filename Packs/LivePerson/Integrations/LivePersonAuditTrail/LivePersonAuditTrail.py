"""LivePerson Audit Trail: collects the LivePerson Conversational Cloud Audit Trail into Cortex XSIAM.

Read top to bottom: constants, errors, settings, the integration-context cache, the Domain API resolver, the
OAuth2 token provider, the GraphQL query builder, the client, the cursor (the last-run state), the fetch loop,
the commands and main.
"""

import base64
import contextlib
import hashlib
import itertools
import json
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import demistomock as demisto
import requests
from CommonServerPython import *
from dateutil.relativedelta import relativedelta

""" CONSTANTS """

VENDOR = "liveperson"
PRODUCT = "liveengage"
INTEGRATION_NAME = "LivePerson Audit Trail"
AUDIT_SERVICE = "accountConfigReadOnly"

# Every field the Audit Trail documents; actionType is only on LivePerson's older pages, so the client drops it
# (and remembers that) if the API ever rejects it.
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
TABLE_HEADERS = ["_time", "objectType", "objectName", "element", "oldValue", "newValue", "originatorLoginName", "actionType"]

DEFAULT_DOMAIN_API_URL = "https://api.liveperson.net"
ACCOUNT_ID_PATTERN = re.compile(r"[A-Za-z0-9_]{1,20}")
HOST_PATTERN = re.compile(
    r"(?=.{1,253}(:|$))[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:\d{1,5})?"
)
COMPONENT_TYPE_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

DEFAULT_FIRST_FETCH = "1 minute"
RETENTION = relativedelta(months=13)  # LivePerson keeps 13 months of audit data
DEFAULT_MAX_FETCH = 5000
MAX_FETCH_LIMIT = 50000
DEFAULT_PAGE_SIZE = 500
MIN_PAGE_SIZE = 10
MAX_PAGE_SIZE = 1000
DEFAULT_GET_EVENTS_LIMIT = 50
MAX_GET_EVENTS_LIMIT = 1000
DEFAULT_GET_EVENTS_START = "3 days"

DOMAIN_CACHE_SECONDS = 4 * 60 * 60  # the account-to-host mapping changes rarely
TOKEN_RENEW_MARGIN_SECONDS = 60
DEFAULT_TOKEN_LIFETIME_SECONDS = 3600
REQUEST_TIMEOUT_SECONDS = 30
# LivePerson's retry policy: 5xx three times after about 5, 10 and 15 s; 429 after at least 1 s, smoothing traffic.
SERVER_ERROR_PAUSES = (5, 10, 15)
RATE_LIMIT_PAUSES = (1, 2, 4, 8, 15)
RUN_TIME_BUDGET_SECONDS = 150  # a run gives up retrying past this; the next scheduled run resumes
MAX_PAGES_PER_RUN = 1000
# One send must be one platform chunk (1 MiB): then a failed send leaves nothing half-ingested.
SEND_BATCH_BYTES = 900_000
HASH_MODULUS = 2**64
# changeDate in the UTC the collector asks for, as LivePerson writes it: "2024-05-01 13:45:10.0" (fraction optional).
CHANGE_DATE_SHAPE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?", re.ASCII)
# A string as json.dumps writes it with ensure_ascii, as the platform sends events: quoted, escaped.
JSON_ESCAPE = json.encoder.encode_basestring_ascii

""" ERRORS """


class LivePersonError(Exception):
    """Base of every error this integration raises on purpose; its message is meant for the user."""


class SettingError(LivePersonError):
    """A setting or command argument is wrong: the message names it and says what is expected."""


class AuthenticationError(LivePersonError):
    """LivePerson did not accept the API key or the token."""


class AccessDeniedError(LivePersonError):
    """The API key is valid but lacks a permission (403), or the account is blocked (451)."""


class ApiError(LivePersonError):
    """LivePerson answered with an error that retrying will not fix."""


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
    """The audit result moved under the cursor (records inserted or removed before it); handled by recovery."""


""" SETTINGS """


@dataclass(frozen=True)
class AuditFilters:
    """The collection filters of the instance; they select which records the Audit Trail returns."""

    lpa: bool = True
    automatic_updates: bool = False
    component_types: tuple[str, ...] = ()
    users: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    """The instance settings, validated once: every later step can trust them."""

    sentinel_host: str
    account_id: str
    client_id: str
    client_secret: str = field(repr=False)
    domain_api_url: str = DEFAULT_DOMAIN_API_URL
    verify: bool = True
    proxy: bool = False
    first_fetch: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(minutes=1))
    max_fetch: int = DEFAULT_MAX_FETCH
    page_size: int = DEFAULT_PAGE_SIZE
    filters: AuditFilters = AuditFilters()

    @classmethod
    def from_params(cls, params: dict[str, Any], now: datetime | None = None) -> "Settings":
        now = now or datetime.now(UTC)
        credentials = credentials_param(params)
        return cls(
            sentinel_host=parse_host(params.get("auth_server_url"), "Authorization server (Sentinel) host"),
            account_id=parse_account_id(params.get("account_id")),
            client_id=parse_required_text(credentials.get("identifier"), "Client ID"),
            client_secret=parse_required_text(credentials.get("password"), "Client secret"),
            domain_api_url=parse_https_url(params.get("domain_api_url") or DEFAULT_DOMAIN_API_URL, "Domain API URL"),
            verify=not parse_bool(params.get("insecure"), "Trust any certificate (not secure)", False),
            proxy=parse_bool(params.get("proxy"), "Use system proxy settings", False),
            first_fetch=parse_first_fetch(params.get("first_fetch"), now),
            max_fetch=parse_int(
                params.get("max_fetch"), "Maximum number of events per fetch", DEFAULT_MAX_FETCH, 1, MAX_FETCH_LIMIT
            ),
            page_size=parse_int(params.get("page_size"), "Page size", DEFAULT_PAGE_SIZE, MIN_PAGE_SIZE, MAX_PAGE_SIZE),
            filters=AuditFilters(
                lpa=parse_bool(params.get("lpa"), "Include changes made by LivePerson administrators (LPA)", True),
                automatic_updates=parse_bool(params.get("automatic_updates"), "Include automatic updates", False),
                component_types=parse_list(params.get("component_types"), "Component types", COMPONENT_TYPE_PATTERN),
                users=parse_list(params.get("users"), "Users"),
            ),
        )


def credentials_param(params: dict[str, Any]) -> dict[str, Any]:
    """The credentials parameter (type 9): {"identifier": client id, "password": client secret}."""
    credentials = params.get("credentials")
    return credentials if isinstance(credentials, dict) else {}


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


def parse_first_fetch(value: Any, now: datetime) -> datetime:
    since = parse_time(DEFAULT_FIRST_FETCH if _is_blank(value) else value, "First fetch time", now)
    oldest = now - RETENTION
    if since < oldest:
        demisto.info(f"First fetch time {format_time(since)} is older than LivePerson keeps; starting at {format_time(oldest)}.")
        return oldest
    return since


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
    """Finds the host of the account's Audit Trail service through LivePerson's Domain API, cached for hours."""

    CACHE_KEY = "audit_host"

    def __init__(self, domain_api_url: str, account_id: str, cache: ContextCache, get_json: Callable[[str, str], dict]):
        self._url = (
            f"{domain_api_url}/api/account/{urllib.parse.quote(account_id)}/service/{AUDIT_SERVICE}/baseURI.json?version=1.0"
        )
        self._scope = f"{domain_api_url}|{account_id}"
        self._cache = cache
        self._get_json = get_json

    def audit_host(self) -> tuple[str, bool]:
        """The host, and whether it came from the cache (a cached host may be stale)."""
        cached = self._cache.get(self.CACHE_KEY, self._scope)
        if isinstance(cached, str) and cached:
            return cached, True
        return self.refresh(), False

    def refresh(self) -> str:
        answer = self._get_json(self._url, "Domain API")
        host = answer.get("baseURI") if isinstance(answer, dict) else None
        if not isinstance(host, str) or not HOST_PATTERN.fullmatch(host):
            raise ResponseFormatError(f"The Domain API did not give a host for the {AUDIT_SERVICE} service of the account.")
        self._cache.put(self.CACHE_KEY, self._scope, host, time.time() + DOMAIN_CACHE_SECONDS)
        return host


""" OAUTH2 TOKEN PROVIDER """


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
    """Bearer tokens from LivePerson Sentinel (OAuth 2.0 client credentials), cached until shortly before expiry."""

    CACHE_KEY = "access_token"

    def __init__(
        self,
        sentinel_host: str,
        account_id: str,
        client_id: str,
        client_secret: str,
        cache: ContextCache,
        post_form: Callable[[str, dict[str, str]], dict],
    ):
        self._url = f"https://{sentinel_host}/sentinel/api/v2/account/{urllib.parse.quote(account_id)}/app/token"
        self._scope = f"{sentinel_host}|{account_id}|{client_id}"
        self._form = {"client_id": client_id, "client_secret": client_secret, "grant_type": "client_credentials"}
        self._cache = cache
        self._post_form = post_form

    def bearer(self) -> str:
        cached = self._cache.get(self.CACHE_KEY, self._scope)
        return cached if isinstance(cached, str) and cached else self.renew()

    def renew(self) -> str:
        answer = self._post_form(self._url, self._form)
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token.strip():
            raise ResponseFormatError("LivePerson Sentinel answered without an access_token.")
        expires_at = time.time() + token_lifetime(answer, token) - TOKEN_RENEW_MARGIN_SECONDS
        self._cache.put(self.CACHE_KEY, self._scope, token, expires_at)
        return token


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


def build_audit_query(query: AuditQuery) -> dict[str, str]:
    """The request body of an Audit Trail call: {"query": "{auditData(...) {fields}}"}."""
    arguments = {
        "fromDate": query.from_date,
        "toDate": query.to_date,
        "first": query.first,
        "offset": query.offset,
        "orderBy": list(query.order_by) or None,
        "orderDirection": list(query.order_direction) or None,
        "users": list(query.users) or None,
        "componentTypes": list(query.component_types) or None,
        "language": query.language,
        "timezone": query.timezone,
        "lpa": query.lpa,
        "automaticUpdates": query.automatic_updates,
    }
    rendered = ", ".join(f"{name}: {graphql_value(value)}" for name, value in arguments.items() if value is not None)
    selection = " ".join(query.fields)
    head = f"auditData({rendered})" if rendered else "auditData"
    return {"query": f"{{{head} {{{selection}}}}}"}


""" CLIENT """


def _keep_response(response: requests.Response) -> None:
    """An error handler for BaseClient._http_request that returns every answer, so the status is judged here."""


class AuditTrailClient(BaseClient):
    """Talks to LivePerson: Domain API, Sentinel and the Audit Trail, with LivePerson's retry policy.

    Knows nothing of the platform's last run; it returns audit records or raises a LivePersonError.
    """

    FIELDS_CACHE_KEY = "unsupported_fields"

    def __init__(
        self,
        settings: Settings,
        cache: ContextCache | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        time_budget: float = RUN_TIME_BUDGET_SECONDS,
    ):
        super().__init__(
            base_url=settings.domain_api_url, verify=settings.verify, proxy=settings.proxy, timeout=REQUEST_TIMEOUT_SECONDS
        )
        self._settings = settings
        self._cache = cache or ContextCache()
        self._clock = clock or time.monotonic
        self._sleep = sleep or time.sleep
        self._deadline = self._clock() + time_budget
        self.resolver = DomainResolver(settings.domain_api_url, settings.account_id, self._cache, self._get_json)
        self.tokens = TokenProvider(
            settings.sentinel_host, settings.account_id, settings.client_id, settings.client_secret, self._cache, self._post_form
        )
        self.calls = 0

    # -- one API call with the retry policy --------------------------------------------------------------

    def _send(self, method: str, url: str, retry_connection_errors: bool = True, **kwargs: Any) -> requests.Response:
        """Sends one request; retries 429, 5xx and network failures as LivePerson advises, within the run's time budget."""
        server_errors = rate_limits = 0
        while True:
            self.calls += 1
            try:
                response = self._http_request(method, full_url=url, resp_type="response", error_handler=_keep_response, **kwargs)
            except (DemistoException, requests.exceptions.RequestException) as error:
                if is_configuration_failure(error):  # a certificate or proxy problem: retrying cannot help
                    raise ConnectionFailedError(
                        f"Could not connect to {urllib.parse.urlsplit(url).netloc}: {short_reason(error)}"
                    ) from error
                if not retry_connection_errors:
                    raise ConnectionFailedError(
                        f"Could not reach {urllib.parse.urlsplit(url).netloc}: {short_reason(error)}"
                    ) from error
                problem, response = f"network failure ({short_reason(error)})", None
            else:
                if response.status_code == 429:
                    problem = "rate limited (429)"
                elif response.status_code >= 500:
                    problem = f"server error ({response.status_code})"
                else:
                    return response
            if response is not None and response.status_code == 429:
                pause = max(RATE_LIMIT_PAUSES[min(rate_limits, len(RATE_LIMIT_PAUSES) - 1)], retry_after(response))
                rate_limits += 1
            elif server_errors < len(SERVER_ERROR_PAUSES):
                pause = SERVER_ERROR_PAUSES[server_errors]
                server_errors += 1
            else:
                raise TransientError(f"LivePerson kept failing: {problem} after {server_errors} retries. The next run resumes.")
            if self._clock() + pause > self._deadline:
                raise TransientError(f"LivePerson kept failing: {problem}; the run's time budget is spent. The next run resumes.")
            demisto.debug(f"{problem} from {urllib.parse.urlsplit(url).netloc}; retrying in {pause} s")
            self._sleep(pause)

    def out_of_time(self) -> bool:
        return self._clock() >= self._deadline

    def _get_json(self, url: str, service: str) -> dict:
        response = self._send("GET", url, headers={"Accept": "application/json"})
        if response.status_code == 400:
            raise SettingError(f'The {service} rejected the account ID (400): check "Account ID".')
        if response.status_code == 401:
            raise SettingError(f'The {service} does not know account "{self._settings.account_id}" (401): check "Account ID".')
        if response.status_code == 404:
            raise ApiError(f'The {service} has no {AUDIT_SERVICE} service for the account (404); check "Domain API URL".')
        return parse_json_object(response, service)

    def _post_form(self, url: str, form: dict[str, str]) -> dict:
        response = self._send("POST", url, data=form, headers={"Accept": "application/json"})
        if response.status_code in (400, 401, 403):
            raise AuthenticationError(
                f'LivePerson Sentinel refused the API key ({response.status_code}): check "Client ID" and "Client secret", '
                'and that "Authorization server (Sentinel) host" is your account\'s region.'
            )
        if response.status_code == 404:
            raise SettingError(
                f'No LivePerson Sentinel token service at "{self._settings.sentinel_host}" (404): '
                'set "Authorization server (Sentinel) host" to your region, for example va.sentinel.liveperson.net.'
            )
        if response.status_code != 200:
            raise ApiError(f"LivePerson Sentinel answered {response.status_code} to the token request.")
        return parse_json_object(response, "LivePerson Sentinel")

    # -- the Audit Trail ---------------------------------------------------------------------------------

    def query_audit(self, query: AuditQuery) -> list[dict[str, Any]]:
        """Runs one audit query; renews the token once on 401 and re-resolves the host once when it seems stale."""
        query = replace(query, fields=self._supported_fields(query.fields))
        renewed = re_resolved = dropped_fields = False
        while True:
            host, from_cache = self.resolver.audit_host()
            url = f"https://{host}/api/account/{urllib.parse.quote(self._settings.account_id)}/configuration/metadata/audit"
            headers = {
                "Authorization": f"Bearer {self.tokens.bearer()}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            }
            try:
                response = self._send(
                    "POST",
                    url,
                    retry_connection_errors=not from_cache or re_resolved,
                    json_data=build_audit_query(query),
                    headers=headers,
                )
            except ConnectionFailedError:
                if not from_cache or re_resolved:
                    raise
                self.resolver.refresh()  # a cached host that cannot be reached may have moved
                re_resolved = True
                continue
            status = response.status_code
            if status == 401 and not renewed:
                self.tokens.renew()
                renewed = True
                continue
            if status == 404 and from_cache and not re_resolved:
                self.resolver.refresh()
                re_resolved = True
                continue
            try:
                return audit_records(response)
            except ResponseFormatError as error:
                unsupported = [name for name in OPTIONAL_FIELDS if name in query.fields and name in str(error)]
                if not unsupported or dropped_fields:
                    raise
                self._forget_fields(unsupported)
                query = replace(query, fields=tuple(name for name in query.fields if name not in unsupported))
                dropped_fields = True

    def _supported_fields(self, fields: tuple[str, ...]) -> tuple[str, ...]:
        unsupported = self._cache.get(self.FIELDS_CACHE_KEY, self._settings.account_id) or []
        return tuple(name for name in fields if name not in unsupported)

    def _forget_fields(self, names: list[str]) -> None:
        demisto.info(f"The Audit Trail does not know the field(s) {', '.join(names)}; asking without them from now on.")
        self._cache.put(self.FIELDS_CACHE_KEY, self._settings.account_id, names, time.time() + 7 * 24 * 3600)


UNRESOLVABLE_HOST_SIGNS = ("Failed to resolve", "Name or service not known", "nodename nor servname", "getaddrinfo failed")


def is_configuration_failure(error: Exception) -> bool:
    """A certificate, proxy or host-name failure: the settings must fix it, so retrying cannot help."""
    causes = [error, getattr(error, "exception", None), error.__cause__]
    if any(isinstance(cause, requests.exceptions.SSLError | requests.exceptions.ProxyError) for cause in causes):
        return True
    return any(sign in str(cause) for cause in causes if cause is not None for sign in UNRESOLVABLE_HOST_SIGNS)


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
    if status == 401:
        raise AuthenticationError(
            "LivePerson refused the access token twice (401): check that the API key is enabled and not revoked."
        )
    if status == 403:
        raise AccessDeniedError(
            "LivePerson denied access to the Audit Trail (403): give the API key the Audit Trail read permission "
            "(Administration, Account configuration read) in Conversational Cloud under Manage > APIs."
        )
    if status == 451:
        raise AccessDeniedError("LivePerson reports the account or the API key's user as blocked (451); contact LivePerson.")
    if status != 200:
        detail = ""
        with contextlib.suppress(ValueError):
            detail = graphql_errors(response.json())
        raise ApiError(f"The Audit Trail answered {status}" + (f": {detail}" if detail else ".") + " This is not retried.")
    answer = parse_json_object(response, "The Audit Trail")
    if errors := graphql_errors(answer):
        raise ResponseFormatError(f"The Audit Trail answered with GraphQL errors: {errors}")
    data = answer.get("data")
    records = data.get("auditData") if isinstance(data, dict) else None
    if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
        raise ResponseFormatError("The Audit Trail answered 200 without data.auditData; treated as an error, not as no events.")
    return records


""" CURSOR """


def fingerprint(record: dict[str, Any]) -> int:
    """A 64-bit hash of a record's fields. Not an identity: identical-looking records share it."""
    canonical = json.dumps(sorted((key, value) for key, value in record.items() if key != "_time"), default=str)
    return int.from_bytes(hashlib.sha256(canonical.encode()).digest()[:8], "big")


def record_time(record: dict[str, Any]) -> datetime:
    """The change time of a record, asked for in UTC ("2024-05-01 13:45:10.0").

    The shape LivePerson writes is read by `datetime.fromisoformat`, a tenth of strptime's cost; any other value goes
    to strptime, which decides, as it always did, what else is a time and how a bad value is reported.
    """
    value = record.get("changeDate")
    if isinstance(value, str) and CHANGE_DATE_SHAPE.fullmatch(value):
        try:
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:  # out of range (month 13, February 30): reported below in strptime's words
            pass
    return _strptime_record_time(value)


def _strptime_record_time(value: Any) -> datetime:
    for pattern in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(str(value), pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ResponseFormatError(f'An audit record has a changeDate that is not a time: "{str(value)[:40]}".')


def to_event(record: dict[str, Any], when: datetime) -> dict[str, Any]:
    return {**record, "_time": format_time(when)}


@dataclass
class Entry:
    """One audit record as read, with what the cursor needs of it.

    `previous_fp` is the fingerprint of the record just before it in the same read (None at a day's first record).
    """

    record: dict[str, Any]
    when: datetime
    fp: int
    previous_fp: int | None

    @property
    def second(self) -> str:
        return format_time(self.when.replace(microsecond=0))

    @property
    def hour(self) -> str:
        return f"{self.when.hour:02d}"


def _hash_add(total: int, fp: int) -> int:
    return (total + fp) % HASH_MODULUS


@dataclass
class Cursor:
    """Where the next run resumes, as a small JSON document (the last run). Pure: no I/O.

    The Audit Trail has no record id and filters by whole days, so the cursor keeps a position and checks it:
    - `day` is the UTC day of the last consumed record: the next query's fromDate. `offset` counts the records of
      that day's ascending result consumed so far.
    - The records of the last second consumed (the boundary second) are kept as a count and an additive hash of
      their fingerprints. The next run re-reads that second from its first position and skips exactly what was
      consumed, even when the second has grown since.
    - `anchor` is the fingerprint of the record just before the boundary second. If it is no longer there, records
      were inserted or removed earlier in the day.
    - `hours` keeps, per hour of `day`, the count and additive hash of everything consumed. Recovery compares them
      with a fresh read of the day: late records are named by the hash difference, and an hour changed beyond
      that is resent whole (duplicates rather than losses).
    - `since`: records older than this (the first fetch time) are consumed without being delivered.
    The document stays the same small size whatever the volume: at most 24 hour digests.
    """

    since: str
    day: str
    offset: int = 0
    last_time: str | None = None
    group_count: int = 0
    group_hash: int = 0
    anchor: int | None = None
    hours: dict[str, list[int]] = field(default_factory=dict)

    VERSION = 1

    @classmethod
    def start(cls, since: datetime) -> "Cursor":
        return cls(since=format_time(since), day=since.astimezone(UTC).date().isoformat())

    @property
    def since_time(self) -> datetime:
        return datetime.fromisoformat(self.since.replace("Z", "+00:00"))

    @property
    def group_start(self) -> int:
        """The position of the boundary second's first record in the day's ascending result."""
        return self.offset - self.group_count

    @property
    def boundary_hour(self) -> str | None:
        return self.last_time[11:13] if self.last_time else None

    def copy(self) -> "Cursor":
        return replace(self, hours={hour: list(digest) for hour, digest in self.hours.items()})

    def consume(self, entry: Entry) -> None:
        """Moves past one record of the ascending result (delivered, or skipped on purpose)."""
        day = entry.when.date().isoformat()
        if day != self.day:
            # The record opens a later day: positions now count from that day's first record.
            self.day, self.offset, self.hours, self.last_time = day, 0, {}, None
        if entry.second != self.last_time:
            self.last_time, self.group_count, self.group_hash = entry.second, 0, 0
            self.anchor = entry.previous_fp if self.offset else None
        self.group_count += 1
        self.group_hash = _hash_add(self.group_hash, entry.fp)
        count, total = self.hours.get(entry.hour, [0, 0])
        self.hours[entry.hour] = [count + 1, _hash_add(total, entry.fp)]
        self.offset += 1

    def forget_group(self) -> None:
        """Un-consumes the boundary second, so that it is consumed (and delivered) again from its first record."""
        if self.boundary_hour and self.group_count:
            count, total = self.hours.get(self.boundary_hour, [0, 0])
            self.hours[self.boundary_hour] = [count - self.group_count, (total - self.group_hash) % HASH_MODULUS]
            if self.hours[self.boundary_hour][0] == 0:
                del self.hours[self.boundary_hour]
        self.offset -= self.group_count
        self.group_count, self.group_hash = 0, 0

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.VERSION,
            "since": self.since,
            "day": self.day,
            "offset": self.offset,
            "last_time": self.last_time,
            "group_count": self.group_count,
            "group_hash": f"{self.group_hash:016x}",
            "anchor": None if self.anchor is None else f"{self.anchor:016x}",
            "hours": {hour: [count, f"{total:016x}"] for hour, (count, total) in sorted(self.hours.items())},
        }

    @classmethod
    def from_json(cls, state: dict[str, Any]) -> "Cursor":
        try:
            if state.get("version") != cls.VERSION:
                raise ValueError(f"unknown version {state.get('version')!r}")
            anchor = state.get("anchor")
            cursor = cls(
                since=str(state["since"]),
                day=date.fromisoformat(state["day"]).isoformat(),
                offset=int(state["offset"]),
                last_time=state.get("last_time"),
                group_count=int(state.get("group_count", 0)),
                group_hash=int(state.get("group_hash", "0"), 16),
                anchor=None if anchor is None else int(anchor, 16),
                hours={str(hour): [int(count), int(total, 16)] for hour, (count, total) in state.get("hours", {}).items()},
            )
            cursor.since_time  # noqa: B018 - validates the stored time
            if cursor.group_count < 0 or cursor.offset < cursor.group_count:
                raise ValueError("the offset is smaller than the boundary second")
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise StateError(
                f"The saved last run of this instance cannot be read ({error}). Reset the last run of the instance to start over."
            ) from error
        return cursor


def unaccounted(entries: list[Entry], count: int, total: int) -> list[Entry] | None:
    """Which of `entries` are not among the `count` records whose fingerprints add up to `total`; None if unknown.

    The common case: the first `count` entries are the known ones and any others came later. Otherwise the
    difference of the hashes names up to two records that appeared anywhere among them (a late insert, or a server
    that placed a new record elsewhere in the second). Beyond that the caller resends them all: duplicates, never
    losses.
    """
    fps = [entry.fp for entry in entries]
    if len(fps) >= count and sum(fps[:count]) % HASH_MODULUS == total:
        return entries[count:]
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


""" FETCH LOOP """


@dataclass
class FetchPlan:
    """What one run may do."""

    filters: AuditFilters
    max_events: int
    page_size: int


def read_day(client: AuditTrailClient, plan: FetchPlan, day: str, position: int, previous_fp: int | None) -> Iterator[Entry]:
    """The ascending result of fromDate=`day` from `position` on, page by page, lazily.

    Each page starts one record early and checks that record is the one read last (`previous_fp`), so records
    inserted or removed before the position are detected (AuditTrailShiftedError) rather than skipped or read twice.
    """
    for _ in range(MAX_PAGES_PER_RUN):
        if client.out_of_time():
            raise OutOfTimeError("The run's time budget is spent; the next run goes on.")
        overlap = previous_fp is not None and position > 0
        start = position - 1 if overlap else position
        records = client.query_audit(
            AuditQuery(
                from_date=date.fromisoformat(day),
                first=plan.page_size,
                offset=start,
                users=plan.filters.users,
                component_types=plan.filters.component_types,
                lpa=plan.filters.lpa,
                automatic_updates=plan.filters.automatic_updates,
            )
        )
        complete = len(records) >= plan.page_size
        if overlap:
            if not records or fingerprint(records[0]) != previous_fp:
                raise AuditTrailShiftedError(f"the record at position {start} of {day} is not the one read there before")
            records = records[1:]
        for record in records:
            entry = Entry(record, record_time(record), fingerprint(record), previous_fp if position else None)
            yield entry
            position += 1
            previous_fp = entry.fp
        if not complete:
            return
    raise OutOfTimeError(f"The run read {MAX_PAGES_PER_RUN} pages, its limit; the next run goes on.")


def split_boundary(entries: Iterator[Entry], boundary: str | None) -> tuple[list[Entry], Iterator[Entry]]:
    """Splits off the leading records of the boundary second; the rest stays lazy."""
    group: list[Entry] = []
    if boundary is None:
        return group, entries
    for entry in entries:
        if entry.second != boundary:
            if entry.second < boundary:
                raise AuditTrailShiftedError(f"a record of {entry.second} came after the boundary second {boundary}")
            return group, itertools.chain([entry], entries)
        group.append(entry)
    return group, iter(())


Decision = tuple[Entry, bool]  # a record in position order, and whether to deliver it


def flagged(entries: list[Entry], new: list[Entry]) -> Iterator[Decision]:
    to_deliver = {id(entry) for entry in new}
    return ((entry, id(entry) in to_deliver) for entry in entries)


def past_boundary(saved: Cursor, entries: Iterator[Entry]) -> Iterator[Decision]:
    """Re-reads the saved boundary second (now, eagerly) and flags what is new in it; later records follow."""
    group, rest = split_boundary(entries, saved.last_time)
    new = unaccounted(group, saved.group_count, saved.group_hash)
    if new is None:
        demisto.info(
            f"The second {saved.last_time} changed ({saved.group_count} records read before, {len(group)} now); resending it."
        )
        new = group
    return itertools.chain(flagged(group, new), ((entry, True) for entry in rest))


def resume(client: AuditTrailClient, plan: FetchPlan, saved: Cursor) -> tuple[Cursor, Iterator[Decision]]:
    """The records from the saved boundary second on, after checking the anchor before it."""
    working = saved.copy()
    working.forget_group()
    entries = read_day(client, plan, saved.day, saved.group_start, saved.anchor)
    return working, past_boundary(saved, entries)


def recover(client: AuditTrailClient, plan: FetchPlan, saved: Cursor) -> tuple[Cursor, Iterator[Decision]]:
    """After a shift: re-read the saved day from its start, hour by hour, and deliver what the cursor had not consumed.

    Each hour's records are compared with the hour's saved count and hash: unchanged hours are skipped, up to two
    late records are found exactly, and an hour changed beyond that is resent whole (duplicates, never losses).
    """
    consumed = saved.copy()
    consumed.forget_group()
    entries = read_day(client, plan, saved.day, 0, None)

    def settle(hour: list[Entry]) -> Iterator[Decision]:
        if not hour:
            return iter(())
        count, total = consumed.hours.get(hour[0].hour, [0, 0])
        new = unaccounted(hour, count, total)
        if new is None:
            demisto.info(
                f"Recovery: hour {hour[0].hour} of {saved.day} changed beyond repair; resending its {len(hour)} records."
            )
            new = hour
        elif new:
            demisto.info(f"Recovery: {len(new)} late record(s) found in hour {hour[0].hour} of {saved.day}.")
        return flagged(hour, new)

    def decisions() -> Iterator[Decision]:
        hour: list[Entry] = []
        for entry in entries:
            if saved.last_time is not None and entry.second >= saved.last_time:
                yield from settle(hour)
                yield from past_boundary(saved, itertools.chain([entry], entries))
                return
            if hour and entry.hour != hour[0].hour:
                yield from settle(hour)
                hour = []
            hour.append(entry)
        yield from settle(hour)

    return Cursor(since=saved.since, day=saved.day), decisions()


def event_size(event: dict[str, Any]) -> int:
    """The bytes an event takes in the NDJSON the platform sends: len(json.dumps(event)) + 1, without serialising it.

    JSON escapes a string character by character, so the keys and string values joined escape to the sum of their
    escaped sizes: one escape call measures them all. The rest of a flat event is fixed: quotes, ": " and ", ", the
    braces, the newline, and the literals true, false and null. Any other value (a number, a list) is serialised.
    """
    if not event:
        return 3  # {}\n
    strings = list(event)
    literals = 0
    for value in event.values():
        if isinstance(value, str):
            strings.append(value)
        elif value is None or value is True:
            literals += 4  # null, true
        elif value is False:
            literals += 5
        else:
            return len(json.dumps(event)) + 1
    try:
        escaped = len(JSON_ESCAPE("".join(strings)))
    except TypeError:  # a key that is not a string: json.dumps decides what becomes of it
        return len(json.dumps(event)) + 1
    # `escaped` has two quotes, every key and string value needs two; per pair ": " and ", " (one ", " fewer),
    # then the braces and the newline.
    return escaped - 2 + 2 * len(strings) + 4 * len(event) - 2 + 2 + literals + 1


class Batch:
    """Events waiting to be sent; full when another event would make the send larger than one platform chunk.

    Sizes come from `event_size`, computed once per event by the caller.
    """

    def __init__(self, max_events: int):
        self.events: list[dict[str, Any]] = []
        self._bytes = 0
        self._max_events = max_events

    def fits(self, size: int) -> bool:
        return not self.events or (len(self.events) < self._max_events and self._bytes + size <= SEND_BATCH_BYTES)

    def add(self, event: dict[str, Any], size: int) -> None:
        self.events.append(event)
        self._bytes += size

    def take(self) -> list[dict[str, Any]]:
        events, self.events, self._bytes = self.events, [], 0
        return events


def fetch_batches(client: AuditTrailClient, plan: FetchPlan, saved: Cursor) -> Iterator[tuple[list[dict[str, Any]], Cursor]]:
    """Yields (events, cursor after them): send the events, and only then save that cursor.

    Each batch fits one platform chunk, so a failed send leaves nothing half-ingested. Records older than the
    first fetch time are consumed without being delivered. At most `plan.max_events` events per run. A shift of
    the result is recovered from once per run; running out of time ends the run where it is.
    """
    since = saved.since_time
    batch = Batch(plan.page_size)
    delivered = 0
    recovered = False
    try:
        working, entries = resume(client, plan, saved)
    except AuditTrailShiftedError as shift:
        demisto.info(f"The audit trail moved under the cursor: {shift}.")
        working, entries = recover(client, plan, saved)
        recovered = True
    while delivered < plan.max_events:
        try:
            decision = next(entries, None)
        except AuditTrailShiftedError as shift:
            if recovered:
                raise TransientError(f"The audit trail kept changing during the run ({shift}); the next run goes on.") from shift
            demisto.info(f"The audit trail moved under the cursor: {shift}.")
            if batch.events:
                yield batch.take(), working.copy()
            working, entries = recover(client, plan, working)
            recovered = True
            continue
        except TransientError as error:
            if batch.events:  # keep what was read before the failure
                yield batch.take(), working.copy()
            if not isinstance(error, OutOfTimeError):
                raise
            demisto.info(str(error))
            break
        if decision is None:
            break
        entry, deliver = decision
        if deliver and entry.when >= since:
            event = to_event(entry.record, entry.when)
            size = event_size(event)
            if not batch.fits(size):
                yield batch.take(), working.copy()
            batch.add(event, size)
            delivered += 1
        working.consume(entry)
    if batch.events or working.to_json() != saved.to_json():
        yield batch.take(), working.copy()


""" COMMANDS """


def load_cursor(last_run: dict[str, Any] | None, settings: Settings) -> Cursor:
    """The saved cursor, or a new one that starts at the first fetch time."""
    if not last_run:
        return Cursor.start(settings.first_fetch)
    return Cursor.from_json(last_run)


def fetch_events_command(client: AuditTrailClient, settings: Settings) -> int:
    """One scheduled run: read, send batch by batch, save the cursor after each accepted send."""
    cursor = load_cursor(demisto.getLastRun(), settings)
    plan = FetchPlan(settings.filters, settings.max_fetch, settings.page_size)
    total = 0
    try:
        for events, next_cursor in fetch_batches(client, plan, cursor):
            if events:
                send_events_to_xsiam(events, vendor=VENDOR, product=PRODUCT, should_update_health_module=False)
                total += len(events)
            demisto.setLastRun(next_cursor.to_json())
    finally:
        demisto.updateModuleHealth({"eventsPulled": total})
        demisto.debug(f"fetch-events sent {total} events with {client.calls} API calls")
    return total


def get_events(client: AuditTrailClient, settings: Settings, start: datetime, end: datetime, limit: int) -> list[dict]:
    """Events from `start` to `end`, oldest first, at most `limit`, without touching the last run."""
    plan = FetchPlan(settings.filters, limit, min(settings.page_size, max(limit + 1, MIN_PAGE_SIZE)))
    events: list[dict[str, Any]] = []
    for entry in read_day(client, plan, start.date().isoformat(), 0, None):
        if entry.when > end or len(events) >= limit:
            break
        if entry.when >= start:
            events.append(to_event(entry.record, entry.when))
    return events


def get_events_command(client: AuditTrailClient, settings: Settings, args: dict[str, Any]) -> CommandResults:
    now = datetime.now(UTC)
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


def test_module(client: AuditTrailClient) -> str:
    """Checks the three stages separately and says which one failed: nothing is sent, no last run is saved."""
    stages: list[tuple[str, Callable[[], object]]] = [
        ("Domain API lookup", client.resolver.refresh),
        ("Authentication (Sentinel token)", client.tokens.renew),
        (
            "Audit Trail query",
            lambda: client.query_audit(AuditQuery(from_date=(datetime.now(UTC) - timedelta(days=1)).date(), first=1, offset=0)),
        ),
    ]
    for name, check in stages:
        try:
            check()
        except LivePersonError as error:
            return f"{name} failed: {error}"
    return "ok"


""" MAIN """


def redact(text: str, secrets: list[str]) -> str:
    """Removes every secret (client secret, tokens) from a message, whatever produced it."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "<redacted>")
    return text


def main() -> None:
    command = demisto.command()
    params = demisto.params()
    secrets = [str(credentials_param(params).get("password") or "")]
    demisto.debug(f"Command being called is {command}")
    try:
        settings = Settings.from_params(params)
        client = AuditTrailClient(settings)
        if command == "test-module":
            return_results(test_module(client))
        elif command == "fetch-events":
            fetch_events_command(client, settings)
        elif command == "liveperson-get-events":
            return_results(get_events_command(client, settings, demisto.args()))
        else:
            raise NotImplementedError(f"Command {command} is not implemented.")
    except Exception as error:
        secrets.append(str(demisto.getIntegrationContext().get(TokenProvider.CACHE_KEY, {}).get("value") or ""))
        return_error(redact(f"Failed to execute {command} command.\nError:\n{error}", secrets))


if __name__ in ("__main__", "__builtin__", "builtins"):
    main()
