"""The importer never fails with a 500: any document, however mangled, is imported or
refused with its problems (hypothesis), and a refused one leaves nothing behind."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actions.transfer.export import workload_export
from actions.transfer.importer import workload_import
from actions.transfer.reading import TransferRefused, document_read
from reviews.models import Workload
from tests.actions.transfer_helpers import full_workload

pytestmark = pytest.mark.django_db

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "HIGH",
            "2030-01-01",
            "bob@example.com",
            "L1",
            "L9",
            "not a date",
            "0001-01-01T00:00:00+14:00",
        ]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def paths(document: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in the document, as a path of keys and indexes."""
    found = [prefix]
    if isinstance(document, dict):
        for key, value in document.items():
            found += paths(value, (*prefix, key))
    elif isinstance(document, list):
        for i, value in enumerate(document[:3]):
            found += paths(value, (*prefix, i))
    return found


def replaced(document: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return document


@pytest.fixture
def export(cast, lenses) -> dict:
    full_workload(cast)
    document = workload_export(cast.workload)
    document["workload"]["name"] = "Checkout again"
    return document


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_mangled_document_is_imported_or_refused(cast, export, data):
    document = copy.deepcopy(export)
    places = paths(document)
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        path = data.draw(st.sampled_from(places))
        try:
            document = replaced(document, path, data.draw(VALUES))
        except (KeyError, IndexError, TypeError):
            continue
    before = Workload.objects.count()
    try:
        checked = document_read(json.dumps(document))
        workload_import(team=cast.team, user=cast.admin, document=checked)
    except TransferRefused as exc:
        assert exc.errors and all(isinstance(e, str) and e for e in exc.errors)
        assert Workload.objects.count() == before
    else:
        Workload.objects.filter(name=document["workload"]["name"].strip()).delete()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.one_of(st.binary(max_size=200), st.text(max_size=200)))
def test_any_bytes_uploaded_answer_400_or_200_never_500(client, cast, raw):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(cast.admin)
    body = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    response = client.post(
        reverse("actions:workload_import"),
        {"team": cast.team.uuid, "document": SimpleUploadedFile("x.json", body)},
    )
    assert response.status_code in (200, 400)
