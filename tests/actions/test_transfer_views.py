"""Export and backup in the browser: the workload page's download (every team member), the
upload into a team (its admins and members), errors with their place, nothing saved."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from actions.transfer import reading
from actions.transfer.export import workload_export
from reviews.models import Workload
from tests.actions.test_transfer import empty_instance
from tests.actions.transfer_helpers import full_workload

IMPORT_URL = reverse("actions:workload_import")


def export_url(workload):
    return reverse("actions:workload_export", args=[workload.uuid])


def upload(content: bytes | str, name: str = "checkout.json") -> SimpleUploadedFile:
    data = content.encode() if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, content_type="application/json")


@pytest.fixture
def exported(cast, lenses) -> bytes:
    full_workload(cast)
    return json.dumps(workload_export(cast.workload)).encode()


@pytest.mark.parametrize("who", ["admin", "member", "finance", "viewer"])
def test_every_team_member_downloads_the_workload(client, cast, lenses, who):
    full_workload(cast)
    client.force_login(getattr(cast, who))
    page = client.get(reverse("reviews:workload_detail", args=[cast.workload.uuid]))
    assert export_url(cast.workload) in page.content.decode()

    response = client.get(export_url(cast.workload))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="checkout-export-')
    document = json.loads(response.content)
    assert document["workload"]["name"] == "Checkout"
    assert len(document["actions"]) == 2


def test_the_download_takes_get_only(client, cast):
    client.force_login(cast.admin)
    assert client.post(export_url(cast.workload)).status_code == 405


def test_an_admin_imports_an_export_into_an_empty_instance(client, cast, exported):
    empty_instance()
    client.force_login(cast.admin)
    assert "Import an export" in client.get(reverse("reviews:workload_list")).content.decode()

    response = client.post(IMPORT_URL, {"team": cast.team.uuid, "document": upload(exported)})

    assert response.status_code == 200
    page = response.content.decode()
    workload = Workload.objects.get(team=cast.team, name="Checkout")
    assert reverse("reviews:workload_detail", args=[workload.uuid]) in page
    assert "1 review, " in page and "2 actions" in page
    assert "newcomer@example.com (Checkout review)" in page
    assert "Data platform v1" in page


def test_a_refused_file_lists_the_places_and_saves_nothing(client, cast, exported):
    empty_instance()
    document = json.loads(exported)
    document["sessions"][0]["participants"][0]["role"] = "boss"
    document["milestones"][0]["snapshot"] = "later"
    client.force_login(cast.member)

    response = client.post(
        IMPORT_URL, {"team": cast.team.uuid, "document": upload(json.dumps(document))}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was imported" in page
    assert "sessions[0].participants[0].role: &#x27;boss&#x27; is not one of" in page
    assert "milestones[0].snapshot: expected an object, found a string" in page
    assert not Workload.objects.filter(team=cast.team).exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe", "the file is not UTF-8 text (byte 1)"),
        (b"[1, 2", "invalid JSON at line 1, column 6"),
        (b'{"format": "something"}', "format: not a Pillarwise workload export"),
        (
            b'{"format": "pillarwise-workload", "schemaVersion": 7}',
            "schemaVersion: the file says &#x27;7&#x27;; this version of Pillarwise reads "
            "schema version 1",
        ),
        (b"[" * 40 + b"]" * 40, "nested more than 32 levels deep"),
    ],
)
def test_what_is_not_an_export_is_refused_with_why(client, cast, content, message):
    client.force_login(cast.admin)
    response = client.post(IMPORT_URL, {"team": cast.team.uuid, "document": upload(content)})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_file_over_the_cap_is_refused(client, cast, monkeypatch):
    monkeypatch.setattr(reading, "MAX_DOCUMENT_BYTES", 100)
    monkeypatch.setattr("actions.views.transfer.MAX_DOCUMENT_BYTES", 100)
    client.force_login(cast.admin)
    response = client.post(IMPORT_URL, {"team": cast.team.uuid, "document": upload("x" * 101)})
    assert response.status_code == 400
    assert "the file is larger than" in response.content.decode()


def test_another_teams_id_is_a_404(client, cast, exported):
    client.force_login(cast.outsider)
    response = client.post(IMPORT_URL, {"team": cast.team.uuid, "document": upload(exported)})
    assert response.status_code == 404


@pytest.mark.parametrize("who", ["finance", "viewer"])
def test_who_only_reads_in_the_team_cannot_import(client, cast, exported, who):
    client.force_login(getattr(cast, who))
    response = client.post(IMPORT_URL, {"team": cast.team.uuid, "document": upload(exported)})
    assert response.status_code == 403
    page = client.get(IMPORT_URL).content.decode()
    assert "you are neither in any team" in page


def test_the_form_without_a_file_says_so(client, cast):
    client.force_login(cast.admin)
    response = client.post(IMPORT_URL, {"team": cast.team.uuid})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_signed_out_goes_to_the_login_page(client, cast):
    response = client.get(IMPORT_URL)
    assert response.status_code == 302 and "/login" in response["Location"]
    response = client.get(export_url(cast.workload))
    assert response.status_code == 302 and "/login" in response["Location"]
