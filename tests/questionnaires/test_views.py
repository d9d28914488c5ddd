"""The lens library: list, detail, export, and upload in the UI."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from questionnaires.models import Lens
from tests.questionnaires.test_lensfile import lens, raw


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
    assert "You cannot import" not in body and "your role cannot" in body


def test_upload_imports_and_shows_warnings(client, cast, importer):
    client.force_login(importer)
    response = client.post(
        reverse("questionnaires:lens_list"),
        upload(raw(lens(_version="2.0", _note="x")), "custom.json"),
        follow=True,
    )
    stored = Lens.objects.get(name="Test lens")
    assert response.redirect_chain[-1][0] == reverse(
        "questionnaires:lens_detail", args=[stored.uuid]
    )
    body = response.content.decode()
    assert "Imported Test lens v1 · 2.0." in body
    assert "extra key &#x27;_note&#x27; ignored" in body
    assert stored.imported_by == importer and stored.source_name == "custom.json"
    assert (stored.library, stored.version_label) == (str(cast.team.uuid), "2.0")


def test_upload_of_a_bad_file_lists_errors_and_saves_nothing(client, importer, no_lenses):
    client.force_login(importer)
    document = lens()
    document["pillars"][0]["questions"][0]["riskRules"][0]["condition"] = "a && ghost"
    response = client.post(reverse("questionnaires:lens_list"), upload(raw(document)))
    assert response.status_code == 400
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
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == ["This field is required."]


@pytest.mark.parametrize("role", ["finance", "viewer"])
def test_finance_and_viewers_cannot_upload(client, cast, role, no_lenses):
    client.force_login(getattr(cast, role))
    response = client.post(reverse("questionnaires:lens_list"), upload(raw(lens())))
    assert response.status_code == 403
    assert not Lens.objects.exists()
    page = client.get(reverse("questionnaires:lens_list")).content.decode()
    assert "your role cannot" in page and 'id="id_file"' not in page


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


# --- htmx, Check, and the library ----------------------------------------------------------


def test_htmx_import_redirects_the_page_to_the_new_lens(client, importer):
    client.force_login(importer)
    response = client.post(
        reverse("questionnaires:lens_list"), upload(raw(lens())), headers={"HX-Request": "true"}
    )
    stored = Lens.objects.get(name="Test lens")
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("questionnaires:lens_detail", args=[stored.uuid])


def test_htmx_import_of_a_bad_file_answers_400_with_only_the_report(client, importer, no_lenses):
    client.force_login(importer)
    document = lens(_note="x")
    document["pillars"][0]["questions"][0]["riskRules"][0]["condition"] = "a && ghost"
    response = client.post(
        reverse("questionnaires:lens_list"), upload(raw(document)), headers={"HX-Request": "true"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="lens-report"') and "<html" not in body
    assert "The file was not imported; nothing was saved (1 error)." in body
    assert "names unknown choice &#x27;ghost&#x27;" in body
    # what was read before the error is listed too
    assert "1 warning" in body and "extra key &#x27;_note&#x27; ignored" in body
    assert not Lens.objects.exists()


def test_htmx_import_without_a_file_answers_400_saying_so(client, importer):
    client.force_login(importer)
    response = client.post(reverse("questionnaires:lens_list"), {}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_a_file_over_2_mb_is_refused_before_it_is_read(client, importer):
    client.force_login(importer)
    response = client.post(
        reverse("questionnaires:lens_list"), upload(b" " * (2 * 1024 * 1024 + 1))
    )
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == ["The file is 2.0 MB; the limit is 2 MB."]


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_check_lists_warnings_and_imports_nothing(client, importer, htmx, no_lenses):
    client.force_login(importer)
    document = lens(_version="2.0", _note="x")
    document["pillars"][0]["questions"][0]["choices"][0]["improvementPlan"]["displayText"] = (
        "I" * 1500
    )
    response = client.post(
        reverse("questionnaires:lens_check"),
        upload(raw(document)),
        headers={"HX-Request": "true"} if htmx else {},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert ("<html" in body) is not htmx
    assert "The file can be imported." in body
    assert "Test lens (2.0): 2 pillars, 3 questions, 7 choices." in body
    assert "Importing it makes v1 in the team's library." in body
    assert "2 warnings" in body
    assert (
        "pillars[0].questions[0].choices[0].improvementPlan.displayText: longer than AWS&#x27;s "
        "limit of 1,024 characters (1,500); imported as it is" in body
    )
    assert not Lens.objects.exists()


def test_check_of_a_bad_file_lists_its_errors(client, importer):
    client.force_login(importer)
    response = client.post(
        reverse("questionnaires:lens_check"),
        upload(raw(lens(pillars=[]))),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "The file cannot be imported as it is (1 error)." in body
    assert "pillars: needs at least one pillar" in body


def test_check_says_when_the_library_already_holds_the_file(client, importer, no_lenses):
    client.force_login(importer)
    client.post(reverse("questionnaires:lens_list"), upload(raw(lens())))
    response = client.post(reverse("questionnaires:lens_check"), upload(raw(lens())))
    assert "Test lens v1 already holds exactly this content" in response.content.decode()
    changed = client.post(reverse("questionnaires:lens_check"), upload(raw(lens(description="2"))))
    assert "Importing it makes v2 in the team's library." in changed.content.decode()
    assert Lens.objects.count() == 1


def test_check_needs_the_permission_a_file_and_post(client, cast, importer):
    client.force_login(cast.viewer)
    assert client.post(reverse("questionnaires:lens_check"), upload(raw(lens()))).status_code == 403
    client.force_login(importer)
    assert client.get(reverse("questionnaires:lens_check")).status_code == 405
    response = client.post(reverse("questionnaires:lens_check"), {})
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == ["This field is required."]


def test_an_upload_named_like_the_framework_lens_is_a_team_lens(client, cast, importer, lenses):
    client.force_login(importer)
    framework = lenses["Well-Architected Framework"]
    from questionnaires.services import lens_export

    changed = lens_export(framework).replace('"title": "', '"title": "Ours: ', 1)
    client.post(reverse("questionnaires:lens_list"), upload(changed.encode()))
    upload_row = Lens.objects.get(name=framework.name, library=str(cast.team.uuid))
    assert (upload_row.version, upload_row.is_framework) == (1, False)
    framework.refresh_from_db()
    assert Lens.objects.filter(name=framework.name, is_framework=True).get() == framework
    body = client.get(reverse("questionnaires:lens_list")).content.decode()
    assert body.count('<span class="badge">Alpha</span>') == 1


def test_detail_shows_the_changes_from_the_previous_version(
    client, cast, django_assert_max_num_queries
):
    first = lens_import_raw(lens(_version="1.0"))
    changed = lens(_version="1.1")
    changed["pillars"][0]["questions"][1]["title"] = "Reworded?"
    del changed["pillars"][1]
    second = lens_import_raw(changed)
    client.force_login(cast.viewer)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("questionnaires:lens_detail", args=[second.uuid]))
    body = response.content.decode()
    assert "Changes from v1 · 1.0" in body
    assert "Questions: 0 new, 1 changed, 1 removed." in body
    assert "The lens's version label changed." in body
    assert 'Reworded? <code class="small muted">q2</code> <span class="small muted">· title' in body
    first_page = client.get(reverse("questionnaires:lens_detail", args=[first.uuid]))
    assert "Changes from" not in first_page.content.decode()
    assert f'href="{reverse("questionnaires:lens_detail", args=[first.uuid])}">v1 · 1.0' in body


def lens_import_raw(document) -> Lens:
    from questionnaires.services import lens_import

    return lens_import(raw=raw(document)).lens
