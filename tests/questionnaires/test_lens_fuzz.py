"""Fuzzing the lens importer: whatever the input (arbitrary bytes, arbitrary JSON, a valid lens
with parts replaced, deleted or spliced with hostile text), reading it and importing it either
succeed or raise LensFileError, and nothing else. What they accept is storable, and exporting
it reads back the same."""

import copy
import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from questionnaires.lensdata import LensData, lens_document
from questionnaires.lensfile import LensFileError, read_lens_file
from questionnaires.models import Choice, Lens, Pillar, Question, RiskRule
from questionnaires.services import lens_export, lens_import
from tests.questionnaires.test_lensfile import lens

VALID = lens(_version="1.0")
VALID["pillars"][0]["questions"][0]["choices"][0]["additionalResources"] = [
    {"type": "HELPFUL_RESOURCE", "content": [{"displayText": "More", "url": "https://e.com/m"}]}
]
VALID["pillars"][1]["questions"][0]["url"] = "https://example.com/q3"

# Every character, NUL and lone surrogates included.
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
HOSTILE = st.sampled_from(
    [
        "[" * 5000,
        "{" * 40,
        '{"a":' * 50,
        "9" * 5000,
        "-1e999",
        "NaN",
        "Infinity",
        '"\\ud800"',
        '"\\udc00x"',
        '"\\u0000"',
        "(" * 1500,
        "!" * 200,
        '"',
        "\\",
        "\x00",
        "\ud800",
        "\ufeff",
        "http://[::1",
    ]
)
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(-(10**45), 10**45)
    | st.floats(allow_nan=True, allow_infinity=True)
    | ANY_TEXT
    | HOSTILE
)
JSON_VALUES = st.recursive(
    LEAVES,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            ANY_TEXT | st.sampled_from(["id", "title", "url", "Url"]), children, max_size=4
        )
    ),
    max_leaves=20,
)


def places(value, prefix=()):
    """Every (container path, key) in a document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from places(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, index)
            yield from places(item, (*prefix, index))


@st.composite
def mutated_lenses(draw) -> str | bytes:
    document = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(list(places(document))))
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "delete", "duplicate"]))
        if action == "replace":
            parent[path[-1]] = draw(JSON_VALUES)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
        if not list(places(document)):
            break
    text = json.dumps(document, ensure_ascii=draw(st.booleans()))
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 3))
        text = text[:at] + draw(HOSTILE | ANY_TEXT) + text[at + cut :]
    if draw(st.booleans()):
        return text
    return text.encode("utf-8", "surrogatepass")


INPUTS = (
    mutated_lenses()
    | st.binary(max_size=200)
    | JSON_VALUES.map(lambda value: json.dumps(value))
    | st.builds(lambda value: json.dumps({**VALID, "pillars": value}), JSON_VALUES)
)


def storable(message: str) -> bool:
    return "\x00" not in message and bool(message.encode("utf-8"))


def check_reading(raw: str | bytes) -> LensData | None:
    try:
        data = read_lens_file(raw)
    except LensFileError as exc:
        assert exc.errors and all(storable(m) for m in exc.errors + exc.warnings)
        return None
    assert all(storable(m) for m in data.warnings)
    return data


@settings(max_examples=400, deadline=None)
@given(INPUTS)
@example(json.dumps(VALID))
@example(json.dumps(VALID).replace('"1.0"', "[" * 100_000))
@example(json.dumps(VALID).replace('"1.0"', "9" * 5000))
@example(json.dumps(VALID).replace('"a && b"', '"' + "(" * 1500 + "a" + ")" * 1500 + '"'))
@example(json.dumps(VALID).replace('"Test lens"', '"\\ud800"'))
@example(json.dumps(VALID).replace('"Pillar one"', '"Pillar\\u0000one"'))
def test_reading_any_input_gives_a_lens_or_lens_file_error(raw):
    data = check_reading(raw)
    if data is not None:
        # What was accepted exports to a file that reads back the same.
        again = read_lens_file(json.dumps(lens_document(data)))
        assert again.digest() == data.digest()


def counts() -> list[int]:
    return [model.objects.count() for model in (Lens, Pillar, Question, Choice, RiskRule)]


@pytest.mark.django_db
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutated_lenses())
@example(json.dumps(VALID).replace('"Pillar one"', '"Pillar\\u0000one"'))
@example(json.dumps(VALID))
def test_importing_any_input_stores_it_or_writes_nothing(raw):
    before = counts()
    try:
        result = lens_import(raw=raw, library="fuzz", source_name="fuzz.json")
    except LensFileError:
        assert counts() == before
        return
    # Stored and read back from the database (PostgreSQL refuses what is not storable).
    exported = lens_export(Lens.objects.get(pk=result.lens.pk))
    assert read_lens_file(exported).digest() == read_lens_file(raw).digest()
