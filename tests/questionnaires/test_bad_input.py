"""Input that used to crash the importer gets a clear error naming its place and writes nothing:
in the reader, the import service, the upload page (a 400 with the message on the page) and
import_lens."""

import json
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DataError, transaction
from django.urls import reverse

from questionnaires.lensfile import LensFileError, read_lens_file
from questionnaires.models import SHARED_LIBRARY, Lens
from questionnaires.safejson import JSONRejected, load_json
from tests.conftest import require_postgres
from tests.questionnaires.test_lensfile import lens, raw, rejected


def with_text(document: dict, placeholder: str, json_text: str) -> bytes:
    """The document as JSON, with the string "placeholder" replaced by raw JSON text."""
    encoded = json.dumps(document)
    assert encoded.count(f'"{placeholder}"') == 1
    return encoded.replace(f'"{placeholder}"', json_text).encode()


def deep_arrays() -> bytes:
    return with_text(lens(_x="HERE"), "HERE", "[" * 100_000 + "]" * 100_000)


def long_integer() -> bytes:
    return with_text(lens(_x="HERE"), "HERE", "9" * 5000)


def parentheses() -> bytes:
    document = lens()
    document["pillars"][0]["questions"][1]["riskRules"][0]["condition"] = (
        "(" * 1500 + "a" + ")" * 1500
    )
    return raw(document)


def lone_surrogate() -> bytes:
    return with_text(lens(name="HERE"), "HERE", '"\\ud800"')


def nul_in_a_name() -> bytes:
    document = lens()
    document["pillars"][1]["name"] = "HERE"
    return with_text(document, "HERE", '"Pillar\\u0000two"')


def column_of(make, marker: bytes) -> int:
    return make().index(marker) + 1


BAD_INPUT = {
    # The 32nd "[" inside the top-level object is the 33rd level.
    "100,000-deep arrays": (
        deep_arrays,
        f"line 1, column {column_of(deep_arrays, b'[' * 100) + 31}: nested more than 32 levels deep",
    ),
    "a 5,000-digit integer": (
        long_integer,
        f"line 1, column {column_of(long_integer, b'9' * 5000)}: "
        "a number of 5,000 characters (at most 40 are read)",
    ),
    "1,500 parentheses": (
        parentheses,
        "pillars[0].questions[1].riskRules[0].condition: cannot parse",
    ),
    "a lone surrogate": (
        lone_surrogate,
        "name: contains an unpaired surrogate (\\ud800), which is not text",
    ),
    "a NUL in a name": (
        nul_in_a_name,
        "pillars[1].name: contains a NUL character (\\u0000), which cannot be stored",
    ),
}
CASES = pytest.mark.parametrize(("make", "message"), BAD_INPUT.values(), ids=BAD_INPUT.keys())


@CASES
def test_the_reader_names_the_place(make, message):
    with pytest.raises(LensFileError) as caught:
        read_lens_file(make())
    assert len(caught.value.errors) == 1
    assert caught.value.errors[0].startswith(message)


@CASES
def test_the_import_service_writes_nothing(db, make, message):
    Lens.objects.create(name="Already here")
    before = list(Lens.objects.all())
    errors = rejected(make())
    assert errors[0].startswith(message)
    assert list(Lens.objects.all()) == before


@CASES
def test_the_upload_page_answers_400_with_the_message(client, importer, make, message, no_lenses):
    client.force_login(importer)
    response = client.post(
        reverse("questionnaires:lens_list"),
        {"file": SimpleUploadedFile("bad.json", make(), content_type="application/json")},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "nothing was saved" in body
    assert message.replace("'", "&#x27;") in body
    assert not Lens.objects.exists()


@CASES
def test_the_import_command_fails_with_the_message(tmp_path, make, message, no_lenses):
    path = tmp_path / "bad.json"
    path.write_bytes(make())
    err = StringIO()
    with pytest.raises(CommandError, match="1 of 1 file"):
        call_command("import_lens", str(path), stdout=StringIO(), stderr=err)
    assert f"{path}: rejected, nothing imported:\n  {message}" in err.getvalue()
    assert not Lens.objects.exists()


@pytest.mark.postgres
def test_postgresql_itself_refuses_nul_which_is_why_the_reader_does(no_lenses):
    require_postgres()
    with pytest.raises(DataError), transaction.atomic():
        Lens.objects.create(name="Pillar\x00two", library=SHARED_LIBRARY)
    errors = rejected(nul_in_a_name())
    assert errors == ["pillars[1].name: contains a NUL character (\\u0000), which cannot be stored"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": NaN}', "line 1, column 7: NaN is not a number JSON allows"),
        ('{"a": [-Infinity]}', "line 1, column 8: -Infinity is not a number JSON allows"),
        ('{"a":\n 1e999}', "line 2, column 2: the number 1e999 is out of range"),
        ("[" * 33, "line 1, column 33: nested more than 32 levels deep"),
        ('{"a": "\\u0000"}', "a: contains a NUL character (\\u0000), which cannot be stored"),
        ('{"a": ["\\uDBFF"]}', "a[0]: contains an unpaired surrogate (\\udbff), which is not text"),
        ("[" + "1" * 41 + "]", "line 1, column 2: a number of 41 characters (at most 40 are read)"),
        ("[1.5E+400]", "line 1, column 2: the number 1.5E+400 is out of range"),
        (
            '{"a b": {"\\udfff": 1}}',
            '["a b"]["\\udfff"]: the key contains an unpaired surrogate (\\udfff), which is not '
            "text",
        ),
        ('["ok", "\\ud83d\\ude00", "\\ud83d"]', "[2]: contains an unpaired surrogate (\\ud83d)"),
        ('"\ud800"', "the file: contains an unpaired surrogate (\\ud800), which is not text"),
        ('{"a": 1', "invalid JSON at line 1, column 8: Expecting ',' delimiter"),
    ],
)
def test_load_json_refuses_what_json_loads_cannot_take_safely(text, message):
    with pytest.raises(JSONRejected) as caught:
        load_json(text)
    assert caught.value.errors[0].startswith(message)


def test_load_json_reads_what_is_fine():
    text = '{"a": [1, -2.5e3, "\\ud83d\\ude00", "[[[[", ' + "[" * 30 + "]" * 30 + "]}"
    assert load_json(text)["a"][:4] == [1, -2500.0, "😀", "[[[["]
    assert load_json('"' + "[" * 5000 + '"') == "[" * 5000  # brackets in a string do not nest
    assert load_json("1" * 40) == int("1" * 40)


def test_raw_surrogates_in_text_input_and_odd_urls_are_errors_not_crashes(db):
    document = lens()
    document["pillars"][0]["questions"][0]["choices"][0]["helpfulResource"]["url"] = "http://[::1"
    assert rejected(raw(document)) == [
        "pillars[0].questions[0].choices[0].helpfulResource.url: must be an http or https address"
    ]
    text = json.dumps(lens(description="\ud800"), ensure_ascii=False)
    assert rejected(text) == [
        "description: contains an unpaired surrogate (\\ud800), which is not text"
    ]
    assert "not UTF-8" in rejected(text.encode("utf-8", "surrogatepass"))[0]


def test_a_file_name_with_nul_is_stored_without_it(db):
    from questionnaires.services import lens_import

    stored = lens_import(raw=raw(lens()), source_name="a\x00b\ud800.json").lens
    assert stored.source_name == "ab.json"


def test_error_lists_stay_readable(db):
    errors = rejected(lens(pillars=["x"] * 300))
    assert errors[:2] == [
        "pillars[10]: more than 10 pillars",
        "pillars[0]: expected an object, got a string",
    ]
    assert len(errors) == 201 and errors[-1] == "… and 101 more errors"
