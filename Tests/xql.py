"""A small evaluator of the XQL this pack ships, run over events in memory.

It reads the modeling rule's `alter` (`parse_model`) and the queries of the correlation rules and the dashboard
(`parse_query`, `run_query`), and knows only the syntax those files use: any other stage, function or operator
raises XQLError, so a test never passes because the evaluator guessed what an unknown construct means.

Where it matters to the rules it follows XQL's semantics: a comparison or string function with a null operand is
null, `x = null` and `x != null` test for null, `and`/`or`/`not` use three-valued logic, and `filter` keeps only the
rows whose condition is true.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

# The values of the XDM_CONST names the modeling rule uses, as the data model stores them.
XDM_CONST = {"OUTCOME_SUCCESS": "SUCCESS", "PRIVILEGE_LEVEL_ADMIN": "ADMIN"}
KEYWORDS = {"null": None, "true": True, "false": False}
COMPARISONS = ("=", "!=", ">=")  # the comparisons the queries use
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

Node = tuple[Any, ...]
Row = dict[str, Any]

TOKEN = re.compile(
    r"\s*(?:(?P<comment>//[^\n]*)"
    r'|(?P<string>"(?:[^"\\]|\\.)*")'
    r"|(?P<duration>\d+[smhd])\b"
    r"|(?P<number>\d+(?:\.\d+)?)\b"
    r"|(?P<name>[A-Za-z_][\w.]*)"
    r"|(?P<punct>!=|>=|<=|[(),=;|<>]))"
)


class XQLError(ValueError):
    """The XQL uses something this evaluator does not know, or is malformed."""


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while text[position:].strip():
        match = TOKEN.match(text, position)
        if not match:
            raise XQLError(f"unexpected XQL at: {text[position : position + 30].strip()!r}")
        kind = match.lastgroup or ""
        if kind != "comment":
            tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


# ------------------------------------------------------------------ parsing


class Parser:
    """Expressions: or > and > not > comparison (=, !=, >=, contains, in) > operand (literal, name, call, (...))."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.position = tokens, 0

    def peek(self, ahead: int = 0) -> str:
        index = self.position + ahead
        return self.tokens[index][1] if index < len(self.tokens) else ""

    def at_end(self) -> bool:
        return self.position >= len(self.tokens)

    def take(self, value: str | None = None) -> tuple[str, str]:
        if self.at_end():
            raise XQLError(f"expected {value or 'more'}, found the end")
        token = self.tokens[self.position]
        if value is not None and token[1] != value:
            raise XQLError(f"expected {value!r}, found {token[1]!r}")
        self.position += 1
        return token

    def take_name(self) -> str:
        kind, value = self.take()
        if kind != "name":
            raise XQLError(f"expected a field name, found {value!r}")
        return value

    def expression(self) -> Node:
        left = self.conjunction()
        while self.peek() == "or":
            self.take()
            left = ("or", left, self.conjunction())
        return left

    def conjunction(self) -> Node:
        left = self.negation()
        while self.peek() == "and":
            self.take()
            left = ("and", left, self.negation())
        return left

    def negation(self) -> Node:
        if self.peek() == "not":
            self.take()
            return ("not", self.negation())
        return self.comparison()

    def comparison(self) -> Node:
        left = self.operand()
        operator = self.peek()
        if operator in COMPARISONS or operator == "contains":
            self.take()
            return ("compare", operator, left, self.operand())
        if operator == "in":
            self.take()
            return ("in", left, self.items())
        return left

    def items(self) -> list[Node]:
        self.take("(")
        items = [self.operand()]
        while self.take()[1] == ",":
            items.append(self.operand())
        return items

    def operand(self) -> Node:
        kind, value = self.take()
        if kind == "string":
            return ("literal", json.loads(value))
        if kind == "number":
            return ("literal", float(value) if "." in value else int(value))
        if value == "(":
            inner = self.expression()
            self.take(")")
            return inner
        if kind != "name":
            raise XQLError(f"unexpected {value!r}")
        if self.peek() == "(":
            self.take("(")
            arguments: list[Node] = []
            if self.peek() != ")":
                arguments.append(self.expression())
                while self.peek() == ",":
                    self.take(",")
                    arguments.append(self.expression())
            self.take(")")
            return ("call", value, arguments)
        if value in KEYWORDS:
            return ("literal", KEYWORDS[value])
        if value.startswith("XDM_CONST."):
            name = value.removeprefix("XDM_CONST.")
            if name not in XDM_CONST:
                raise XQLError(f"the evaluator does not know {value}")
            return ("literal", XDM_CONST[name])
        return ("name", value)

    def assignments(self) -> list[tuple[str, Node]]:
        """`name = expression, name = expression ...` (the body of an alter stage)."""
        result = []
        while True:
            target = self.take_name()
            self.take("=")
            result.append((target, self.expression()))
            if self.peek() != ",":
                return result
            self.take(",")


def parse_model(xif: str) -> tuple[str, dict[str, Node]]:
    """A modeling rule: `[MODEL: dataset=name]` then one `alter ...;`. Returns the dataset and target -> expression."""
    header = re.match(r"\s*\[MODEL:\s*dataset=(\w+)\]", xif)
    if not header:
        raise XQLError("a modeling rule starts with [MODEL: dataset=...]")
    parser = Parser(tokenize(xif[header.end() :]))
    parser.take("alter")
    mapping = dict(parser.assignments())
    parser.take(";")
    if not parser.at_end():
        raise XQLError(f"unexpected {parser.peek()!r} after the alter stage")
    return header.group(1), mapping


@dataclass
class Query:
    dataset: str
    stages: list[tuple[Any, ...]] = field(default_factory=list)

    def view(self) -> dict[str, str]:
        """The options of the final `view graph` stage ({} when the query shows a table)."""
        return next((stage[1] for stage in self.stages if stage[0] == "view"), {})


def parse_query(text: str) -> Query:
    """`dataset = name | stage | stage ...` with the stages filter, alter, comp, fields, sort, limit, bin, view."""
    parser = Parser(tokenize(text))
    parser.take("dataset")
    parser.take("=")
    query = Query(parser.take_name())
    while not parser.at_end():
        parser.take("|")
        stage = parser.take_name()
        parse_stage = STAGE_PARSERS.get(stage)
        if parse_stage is None:
            raise XQLError(f"the evaluator does not know the XQL stage {stage!r}")
        query.stages.append(parse_stage(parser))
        if query.stages[-1][0] == "view" and not parser.at_end():
            raise XQLError("view must be the last stage")
    return query


def _parse_filter(parser: Parser) -> tuple[Any, ...]:
    return ("filter", parser.expression())


def _parse_alter(parser: Parser) -> tuple[Any, ...]:
    return ("alter", parser.assignments())


def _parse_comp(parser: Parser) -> tuple[Any, ...]:
    aggregations = []
    while True:
        function = parser.take_name()
        if function not in AGGREGATIONS:
            raise XQLError(f"the evaluator does not know the aggregation {function}()")
        parser.take("(")
        argument = None if parser.peek() == ")" else parser.take_name()
        parser.take(")")
        parser.take("as")
        aggregations.append((function, argument, parser.take_name()))
        if parser.peek() != ",":
            break
        parser.take(",")
    groups = []
    if parser.peek() == "by":
        parser.take("by")
        groups.append(parser.take_name())
        while parser.peek() == ",":
            parser.take(",")
            groups.append(parser.take_name())
    return ("comp", aggregations, groups)


def _parse_fields(parser: Parser) -> tuple[Any, ...]:
    names = [parser.take_name()]
    while parser.peek() == ",":
        parser.take(",")
        names.append(parser.take_name())
    return ("fields", names)


def _parse_sort(parser: Parser) -> tuple[Any, ...]:
    keys = []
    while True:
        direction = parser.take_name()
        if direction not in ("asc", "desc"):
            raise XQLError(f"sort takes asc or desc before each field, not {direction!r}")
        keys.append((parser.take_name(), direction == "desc"))
        if parser.peek() != ",":
            return ("sort", keys)
        parser.take(",")


def _parse_limit(parser: Parser) -> tuple[Any, ...]:
    kind, value = parser.take()
    if kind != "number":
        raise XQLError(f"limit takes a number, not {value!r}")
    return ("limit", int(value))


def _parse_bin(parser: Parser) -> tuple[Any, ...]:
    name = parser.take_name()
    parser.take("span")
    parser.take("=")
    kind, value = parser.take()
    if kind != "duration":
        raise XQLError(f"bin span takes a duration such as 1h, not {value!r}")
    return ("bin", name, int(value[:-1]) * DURATION_UNITS[value[-1]])


def _parse_view(parser: Parser) -> tuple[Any, ...]:
    parser.take("graph")
    options = {}
    while not parser.at_end():
        option = parser.take_name()
        parser.take("=")
        options[option] = parser.take()[1]
    if "type" not in options:
        raise XQLError("view graph needs a type")
    return ("view", options)


STAGE_PARSERS: dict[str, Callable[[Parser], tuple[Any, ...]]] = {
    "filter": _parse_filter,
    "alter": _parse_alter,
    "comp": _parse_comp,
    "fields": _parse_fields,
    "sort": _parse_sort,
    "limit": _parse_limit,
    "bin": _parse_bin,
    "view": _parse_view,
}


# ------------------------------------------------------------------ evaluation


def _null_if_any(function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*values: Any) -> Any:
        return None if any(value is None for value in values) else function(*values)

    return wrapper


def _if(*values: Any) -> Any:
    if len(values) not in (2, 3):
        raise XQLError("if() takes a condition, a value and an optional else value")
    return values[1] if values[0] is True else (values[2] if len(values) == 3 else None)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "if": _if,
    "coalesce": lambda *values: next((value for value in values if value is not None), None),
    "concat": _null_if_any(lambda *values: "".join(str(value) for value in values)),
    "lowercase": _null_if_any(lambda value: str(value).lower()),
}

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda left, right: left == right,
    "!=": lambda left, right: left != right,
    ">=": lambda left, right: left >= right,
    "contains": lambda left, right: str(right) in str(left),
}


def _compare(operator: str, left_node: Node, right_node: Node, row: Row) -> bool | None:
    left, right = evaluate(left_node, row), evaluate(right_node, row)
    if operator in ("=", "!=") and ("literal", None) in (left_node, right_node):
        is_null = (left if right_node == ("literal", None) else right) is None
        return is_null if operator == "=" else not is_null
    if left is None or right is None:
        return None
    return OPERATORS[operator](left, right)


def _both(left: bool | None, right: bool | None) -> bool | None:
    if left is False or right is False:
        return False
    return None if left is None or right is None else True


def _either(left: bool | None, right: bool | None) -> bool | None:
    if left is True or right is True:
        return True
    return None if left is None or right is None else False


def evaluate(node: Node, row: Row) -> Any:
    kind, *arguments = node
    if kind == "literal":
        return arguments[0]
    if kind == "name":
        return row.get(arguments[0])
    if kind == "compare":
        return _compare(arguments[0], arguments[1], arguments[2], row)
    if kind == "in":
        left, items = arguments
        value = evaluate(left, row)
        return None if value is None else value in [evaluate(item, row) for item in items]
    if kind == "and":
        return _both(evaluate(arguments[0], row), evaluate(arguments[1], row))
    if kind == "or":
        return _either(evaluate(arguments[0], row), evaluate(arguments[1], row))
    if kind == "not":
        value = evaluate(arguments[0], row)
        return None if value is None else not value
    if kind == "call":
        name, call_arguments = arguments
        if name not in FUNCTIONS:
            raise XQLError(f"the evaluator does not know the XQL function {name}()")
        return FUNCTIONS[name](*(evaluate(argument, row) for argument in call_arguments))
    raise XQLError(f"unknown expression {kind}")


def referenced_fields(node: Node) -> set[str]:
    """The dataset fields an expression reads."""
    kind, *arguments = node
    if kind == "name":
        return {arguments[0]}
    if kind == "literal":
        return set()
    children: list[Node] = []
    for argument in arguments:
        if isinstance(argument, tuple):
            children.append(argument)
        elif isinstance(argument, list):
            children.extend(argument)
    return set().union(*(referenced_fields(child) for child in children))


def _distinct_values(values: list[Any]) -> list[Any]:
    return sorted({value for value in values if value is not None}, key=str)


AGGREGATIONS: dict[str, Callable[[list[Any]], Any]] = {
    "count": len,
    "values": _distinct_values,
    "min": lambda values: min((value for value in values if value is not None), default=None),
    "max": lambda values: max((value for value in values if value is not None), default=None),
}


def _comp(rows: list[Row], aggregations: list[tuple[str, str | None, str]], groups: list[str]) -> list[Row]:
    grouped: dict[tuple[Any, ...], list[Row]] = {}
    for row in rows:
        grouped.setdefault(tuple(row.get(name) for name in groups), []).append(row)
    result = []
    for key, members in grouped.items():
        out = dict(zip(groups, key, strict=True))
        for function, argument, alias in aggregations:
            values: list[Any] = list(members) if argument is None else [member.get(argument) for member in members]
            out[alias] = AGGREGATIONS[function](values)
        result.append(out)
    return result


def parse_time(value: str) -> datetime:
    """`_time` as the module writes it: ISO 8601 in UTC, with or without fractions."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _bin(rows: list[Row], name: str, span: int) -> list[Row]:
    result = []
    for row in rows:
        moment = parse_time(row[name])
        floor = datetime.fromtimestamp(int(moment.timestamp()) // span * span, UTC)
        result.append({**row, name: floor.strftime("%Y-%m-%dT%H:%M:%SZ")})
    return result


def _sort(rows: list[Row], keys: list[tuple[str, bool]]) -> list[Row]:
    ordered = list(rows)
    for name, descending in reversed(keys):  # stable sorts, last key first
        ordered.sort(key=lambda row: (row.get(name) is None, row.get(name)), reverse=descending)
    return ordered


def run_query(query: Query, events: Iterable[Row]) -> list[Row]:
    """The rows the query returns over these events (the dataset's rows)."""
    rows = [dict(event) for event in events]
    for stage in query.stages:
        kind = stage[0]
        if kind == "filter":
            rows = [row for row in rows if evaluate(stage[1], row) is True]
        elif kind == "alter":
            for row in rows:
                for target, expression in stage[1]:
                    row[target] = evaluate(expression, row)
        elif kind == "comp":
            rows = _comp(rows, stage[1], stage[2])
        elif kind == "fields":
            rows = [{name: row.get(name) for name in stage[1]} for row in rows]
        elif kind == "sort":
            rows = _sort(rows, stage[1])
        elif kind == "limit":
            rows = rows[: stage[1]]
        elif kind == "bin":
            rows = _bin(rows, stage[1], stage[2])
    return rows


def parse_duration(text: str) -> timedelta:
    """A correlation rule's window, as the platform writes it: "30 minutes", "1 hours", "1 days"."""
    match = re.fullmatch(r"(\d+) (minutes|hours|days)", text.strip())
    if not match:
        raise XQLError(f"not a window the evaluator knows: {text!r}")
    return timedelta(**{match.group(2): int(match.group(1))})


def _names_read(stage: tuple[Any, ...]) -> list[str]:
    kind = stage[0]
    if kind == "filter":
        return sorted(referenced_fields(stage[1]))
    if kind == "comp":
        return [argument for _, argument, _ in stage[1] if argument] + list(stage[2])
    if kind == "fields":
        return list(stage[1])
    if kind == "sort":
        return [name for name, _ in stage[1]]
    if kind == "bin":
        return [stage[1]]
    if kind == "view":
        return [value for option, value in stage[1].items() if option in ("xaxis", "yaxis", "series")]
    return []


def check_columns(query: Query, dataset_fields: Iterable[str]) -> set[str]:
    """The dataset fields the query reads. Raises XQLError when a stage reads a column that does not exist there:
    one the dataset lacks, or one an earlier `comp` or `fields` stage dropped."""
    available, read = set(dataset_fields), set()
    for stage in query.stages:
        if stage[0] == "alter":
            for target, expression in stage[1]:
                _require(referenced_fields(expression), available, stage)
                read |= referenced_fields(expression) & set(dataset_fields)
                available.add(target)
            continue
        names = set(_names_read(stage))
        _require(names, available, stage)
        read |= names & set(dataset_fields)
        if stage[0] == "comp":
            available = set(stage[2]) | {alias for *_, alias in stage[1]}
        elif stage[0] == "fields":
            available = set(stage[1])
    return read


def _require(names: set[str], available: set[str], stage: tuple[Any, ...]) -> None:
    missing = names - available
    if missing:
        raise XQLError(f"the {stage[0]} stage reads {sorted(missing)}, which do not exist at that point")
