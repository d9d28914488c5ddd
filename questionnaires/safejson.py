"""JSON from an uploaded file, loaded so that no input raises anything but JSONRejected.

Python's json module is safe with valid, modest documents only. Three things get through it
or break it, and each is handled here explicitly:

- Nesting. json.loads recurses once per array or object, so a file of 100,000 "[" exhausts
  the stack (RecursionError). The text is scanned first, and nesting deeper than MAX_DEPTH is
  refused before json.loads runs.
- Numbers. Python refuses to turn more than 4,300 digits into an integer (ValueError), and a
  long or large float overflows to infinity; json.loads also reads NaN and Infinity, which
  are not JSON. PostgreSQL's jsonb holds none of them. The same scan refuses numbers longer
  than MAX_NUMBER characters, NaN, Infinity, and numbers a float cannot hold.
- Text that is not text. JSON escapes can spell a NUL (\\u0000), which PostgreSQL cannot store
  in a text column, and an unpaired surrogate (\\ud800), which cannot be encoded at all. After
  loading, every key and string is checked.

Each refusal names its place: a line and column for the scan, a path such as
``pillars[0].name`` after loading.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 32
MAX_NUMBER = 40

# Outside strings, what the scan must see: brackets (for the depth) and the numbers that can
# be trouble, those longer than MAX_NUMBER or with an exponent (a float can only overflow
# with one or with hundreds of digits). A string runs to its closing quote or, unterminated,
# to the end of the text, so every match succeeds and the scan is linear whatever the input.
_TOKENS = re.compile(
    r'"[^"\\]*(?:\\.[^"\\]*)*"?'
    r"|[\[\]{}]"
    rf"|-?\d[\d.eE+-]{{{MAX_NUMBER},}}"
    r"|-?\d[\d.]*[eE][\d+-]*"
    r"|NaN|-?Infinity",
    re.S,
)
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")
# How a NUL or a surrogate can get into the loaded strings: as itself, or as an escape.
_MAYBE_NOT_TEXT = re.compile(r"[\x00\ud800-\udfff]|\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class JSONRejected(ValueError):
    """The text cannot be loaded safely; `errors` says why, each with its place."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


def load_json(text: str) -> Any:
    """The document in `text`. Raises JSONRejected, and nothing else, for any text."""
    if hazard := _scan(text):
        raise JSONRejected([hazard])
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JSONRejected(
            [f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"]
        ) from None
    if _MAYBE_NOT_TEXT.search(text) and (problems := _not_text_anywhere(document)):
        raise JSONRejected(problems)
    return document


def _at(text: str, position: int, message: str) -> str:
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return f"line {line}, column {column}: {message}"


def _scan(text: str) -> str | None:
    """The first nesting or number json.loads must not meet. Invalid JSON is left to
    json.loads, which stops where the text stops being JSON: up to there, this scan counts
    the same brackets it would recurse into."""
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        first = token[0]
        if first == '"':
            continue
        if first in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return _at(text, match.start(), f"nested more than {MAX_DEPTH} levels deep")
        elif first in "]}":
            depth -= 1
        elif token in ("NaN", "Infinity", "-Infinity"):
            return _at(text, match.start(), f"{token} is not a number JSON allows")
        elif len(token) > MAX_NUMBER:
            return _at(
                text,
                match.start(),
                f"a number of {len(token):,} characters (at most {MAX_NUMBER} are read)",
            )
        else:
            try:
                number = float(token)
            except ValueError:  # not a JSON number: json.loads says where
                continue
            if not math.isfinite(number):
                return _at(text, match.start(), f"the number {token} is out of range")
    return None


def _place(parent: str, key: str) -> str:
    if _PLAIN_KEY.fullmatch(key):
        return f"{parent}.{key}" if parent else key
    # json.dumps escapes what cannot be shown (NUL, surrogates) into plain ASCII.
    return f"{parent}[{json.dumps(key[:60])}]"


def _not_text(value: str) -> str | None:
    found = _NOT_TEXT.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL character (\\u0000), which cannot be stored"
    return f"contains an unpaired surrogate (\\u{ord(found.group()):04x}), which is not text"


def _not_text_anywhere(document: Any) -> list[str]:
    """Every key and string that is not storable text, with its place."""
    problems = []
    stack: list[tuple[Any, str]] = [(document, "")]
    while stack:
        value, place = stack.pop()
        if isinstance(value, str):
            if problem := _not_text(value):
                problems.append(f"{place or 'the file'}: {problem}")
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                item_place = _place(place, key)
                if problem := _not_text(key):
                    problems.append(f"{item_place}: the key {problem}")
                stack.append((item, item_place))
        elif isinstance(value, list):
            stack.extend((item, f"{place}[{i}]") for i, item in reversed(list(enumerate(value))))
    return problems
