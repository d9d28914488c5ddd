"""The lens library: list, detail, export, and upload in the UI."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from questionnaires.models import Lens
from tests.questionnaires.test_lensfile import lens, raw


@pytest.fixture
def importer(cast):
    cast.admin.user_permissions.add(Permission.objects.get(codename="add_lens"))
    return cast.admin


def upload(content: bytes, name="lens.json"):
    return {"file": SimpleUploadedFile(name, content, content_type="application/json")}


def test_library_lists_lenses_with_counts(client, cast, lenses, django_assert_max_num_queries):
    client.force_login(cast.viewer)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("questionnaires:lens_list"))
    body = response.content.decode()
    assert (
        "Well-Architected Framework" in body and "Serverless Lens" in body and "SaaS Lens" in body
    )
    framework = next(lens for lens in response.context["lenses"] if lens.is_framework)
    assert (framework.pillar_count, framework.question_count) == (6, 57)
    assert "You cannot import" not in body and "Ask an administrator" in body


def test_upload_imports_and_shows_warnings(client, importer):
    client.force_login(importer)
    response = client.post(
        reverse("questionnaires:lens_list"),
        upload(raw(lens(_version="2")), "custom.json"),
        follow=True,
    )
    stored = Lens.objects.get(name="Test lens")
    assert response.redirect_chain[-1][0] == reverse(
        "questionnaires:lens_detail", args=[stored.uuid]
    )
    body = response.content.decode()
    assert "Imported Test lens v1." in body
    assert "extra key &#x27;_version&#x27; ignored" in body
    assert stored.imported_by == importer and stored.source_name == "custom.json"


def test_upload_of_a_bad_file_lists_errors_and_saves_nothing(client, importer, no_lenses):
    client.force_login(importer)
    document = lens()
    document["pillars"][0]["questions"][0]["riskRules"][0]["condition"] = "a && ghost"
    response = client.post(reverse("questionnaires:lens_list"), upload(raw(document)))
    assert response.status_code == 200
    assert "nothing was saved" in response.content.decode()
    assert (
        "pillars[0].questions[0].riskRules[0].condition: names unknown choice &#x27;ghost&#x27;"
        in response.content.decode()
    )
    assert not Lens.objects.exists()


def test_upload_again_makes_a_new_version_or_nothing(client, importer):
    client.force_login(importer)
    client.post(reverse("questionnaires:lens_list"), upload(raw(lens())))
    response = client.post(reverse("questionnaires:lens_list"), upload(raw(lens())), follow=True)
    assert "already holds exactly this content" in response.content.decode()
    client.post(reverse("questionnaires:lens_list"), upload(raw(lens(description="New"))))
    assert list(
        Lens.objects.filter(name="Test lens").values_list("version", flat=True).order_by("version")
    ) == [1, 2]


def test_upload_needs_a_file(client, importer):
    client.force_login(importer)
    response = client.post(reverse("questionnaires:lens_list"), {})
    assert response.context["form"].errors["file"] == ["This field is required."]


def test_upload_needs_the_permission(client, cast, no_lenses):
    client.force_login(cast.member)
    response = client.post(reverse("questionnaires:lens_list"), upload(raw(lens())))
    assert response.status_code == 403
    assert not Lens.objects.exists()


def test_detail_shows_the_tree_and_versions(client, cast, lenses, django_assert_max_num_queries):
    client.force_login(cast.member)
    framework = lenses["Well-Architected Framework"]
    with django_assert_max_num_queries(10):
        response = client.get(reverse("questionnaires:lens_detail", args=[framework.uuid]))
    body = response.content.decode()
    assert "ops_priorities_ext_cust_needs" in body and "v1" in body


def test_export_downloads_lens_json(client, cast, lenses):
    client.force_login(cast.member)
    response = client.get(reverse("questionnaires:lens_export", args=[lenses["SaaS Lens"].uuid]))
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="saas-lens-v1.json"'
    assert json.loads(response.content)["name"] == "SaaS Lens"


def test_unknown_lens_is_404(client, cast, lenses):
    client.force_login(cast.member)
    assert (
        client.get(
            reverse("questionnaires:lens_detail", args=["00000000-0000-0000-0000-000000000000"])
        ).status_code
        == 404
    )


def test_wrong_method(client, cast, lenses):
    client.force_login(cast.member)
    assert client.delete(reverse("questionnaires:lens_list")).status_code == 405
