"""The AWS Well-Architected Tool in the browser: downloading a session's calls (who may, the
lens ARNs given on the page) and uploading a workload's JSON into a team (bad JSON, unknown
ids, success, who may)."""

from __future__ import annotations

import copy
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from reviews import sessions
from reviews.models import Participant, ParticipantRole, ReviewSession, Workload
from tests.actions.aws_helpers import CUSTOM_ARN
from tests.actions.test_aws_pull import fetched  # noqa: F401 (a fixture)
from tests.actions.test_aws_push import answered  # noqa: F401 (a fixture)


def export_url(review):
    return reverse("actions:aws_export", args=[review.uuid])


IMPORT_URL = "/workloads/import/aws/"


# --- The download ----------------------------------------------------------------------------


def test_the_facilitator_downloads_the_calls_as_json(client, cast, answered):  # noqa: F811
    client.force_login(cast.admin)
    response = client.get(export_url(answered))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == (
        'attachment; filename="checkout-aws-well-architected.json"'
    )
    document = json.loads(response.content)
    assert document["format"] == "pillarwise-aws-push"
    assert [c["operation"] for c in document["calls"]].count("UpdateAnswer") == 57
    update = next(c for c in document["calls"] if c["operation"] == "UpdateAnswer")
    assert update["params"]["WorkloadId"] == "${WorkloadId}"


def test_the_session_page_offers_it_to_managers_only(client, cast, review):
    client.force_login(cast.admin)
    assert (
        export_url(review)
        in client.get(reverse("reviews:session_detail", args=[review.uuid])).content.decode()
    )
    client.force_login(cast.viewer)
    assert (
        export_url(review)
        not in client.get(reverse("reviews:session_detail", args=[review.uuid])).content.decode()
    )


@pytest.mark.parametrize("who", ["viewer", "member", "finance"])
def test_who_cannot_manage_the_session_cannot_download(client, cast, review, who):
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.OPERATIONS)
    client.force_login(getattr(cast, who))
    assert client.get(export_url(review)).status_code == 403


def test_outsider_gets_404(client, cast, review):
    client.force_login(cast.outsider)
    assert client.get(export_url(review)).status_code == 404


def test_wrong_method_is_refused(client, cast, review):
    client.force_login(cast.admin)
    assert client.post(export_url(review)).status_code == 405


@pytest.fixture
def with_serverless(cast, lenses):
    from django.utils import timezone

    review = sessions.session_create(
        workload=cast.workload,
        user=cast.admin,
        title="Serverless review",
        kind="periodic",
        review_starts_at=timezone.now(),
        lenses=[lenses["Serverless Lens"]],
    )
    return review, lenses["Serverless Lens"]


def test_a_custom_lens_arn_comes_from_the_page(client, cast, with_serverless):
    review, serverless = with_serverless
    client.force_login(cast.admin)
    page = client.get(reverse("reviews:session_detail", args=[review.uuid])).content.decode()
    assert f'name="arn-{serverless.uuid}"' in page
    response = client.get(export_url(review), {f"arn-{serverless.uuid}": CUSTOM_ARN})
    document = json.loads(response.content)
    assert document["calls"][0]["params"]["Lenses"] == ["wellarchitected", CUSTOM_ARN]


def test_a_bad_arn_is_a_clear_400(client, cast, with_serverless):
    review, serverless = with_serverless
    client.force_login(cast.admin)
    response = client.get(export_url(review), {f"arn-{serverless.uuid}": "not an arn"})
    assert response.status_code == 400
    assert "is not the ARN of a lens" in response.content.decode()


# --- The upload ------------------------------------------------------------------------------


def upload(client, team, content: bytes | str):
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        IMPORT_URL,
        {"team": str(team.uuid), "document": SimpleUploadedFile("workload.json", data)},
    )


def test_the_workload_list_links_to_the_upload(client, cast):
    client.force_login(cast.member)
    assert reverse("actions:aws_import") == IMPORT_URL
    assert IMPORT_URL in client.get(reverse("reviews:workload_list")).content.decode()
    client.force_login(cast.viewer)
    assert IMPORT_URL not in client.get(reverse("reviews:workload_list")).content.decode()


def test_the_form_offers_the_teams_one_may_import_into(client, cast):
    client.force_login(cast.member)
    page = client.get(IMPORT_URL).content.decode()
    assert str(cast.team.uuid) in page and str(cast.other_team.uuid) not in page
    client.force_login(cast.viewer)
    assert "you are neither in any team" in client.get(IMPORT_URL).content.decode()


def test_a_successful_upload_reports_what_it_made(client, cast, fetched):  # noqa: F811
    client.force_login(cast.outsider)
    response = upload(client, cast.other_team, json.dumps(fetched))
    assert response.status_code == 200
    page = response.content.decode()
    session = ReviewSession.objects.get(workload__team=cast.other_team)
    assert (
        "Created the workload" in page
        and reverse("reviews:session_detail", args=[session.uuid]) in page
    )
    assert "57 answers and 2 best practices marked not applicable" in page


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "The file is not JSON"),
        ("[1, 2]", "one JSON object"),
        ('{"get-workload": {"Workload": {}}}', "get-workload.Workload.WorkloadName: missing"),
    ],
)
def test_a_bad_upload_is_a_clear_400_and_writes_nothing(client, cast, content, message):
    client.force_login(cast.member)
    before = (Workload.objects.count(), ReviewSession.objects.count())
    response = upload(client, cast.team, content)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was imported" in page and message in page
    assert (Workload.objects.count(), ReviewSession.objects.count()) == before


def test_unknown_ids_are_listed_with_their_place(client, cast, fetched):  # noqa: F811
    document = copy.deepcopy(fetched)
    document["list-answers"][0]["AnswerSummaries"][1]["SelectedChoices"] = ["made_up_choice"]
    client.force_login(cast.member)
    response = upload(client, cast.team, json.dumps(document))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Not imported: no counterpart here" in page
    assert "list-answers[0].AnswerSummaries[1]" in page and "made_up_choice" in page


def test_a_missing_file_is_a_form_error(client, cast):
    client.force_login(cast.member)
    response = client.post(IMPORT_URL, {"team": str(cast.team.uuid)})
    assert response.status_code == 400 and "This field is required." in response.content.decode()


@pytest.mark.parametrize("who", ["viewer", "finance"])
def test_who_only_reads_the_team_cannot_upload(client, cast, who):
    client.force_login(getattr(cast, who))
    assert upload(client, cast.team, "{}").status_code == 403


def test_outsider_cannot_upload_into_another_team(client, cast):
    client.force_login(cast.outsider)
    assert upload(client, cast.team, "{}").status_code == 404
    assert not Workload.objects.filter(team=cast.team).exclude(pk=cast.workload.pk).exists()


def test_wrong_method_on_the_upload_is_refused(client, cast):
    client.force_login(cast.member)
    assert client.put(IMPORT_URL).status_code == 405
