"""Answers over the API: read them; change them through the live page's services and
rights (a read token cannot, a team member who is not answering cannot, an outsider meets a
404), with 400s that name the field and nothing half-saved."""

from __future__ import annotations

import pytest

from reviews import blind
from reviews.models import AnswerChange, Participant, Phase
from tests.conftest import selected

pytestmark = pytest.mark.django_db

HIGH = [
    "ops_priorities_ext_cust_needs",
    "ops_priorities_int_cust_needs",
    "ops_priorities_governance_reqs",
    "ops_priorities_compliance_reqs",
]


def url(review, answer) -> str:
    return f"/api/sessions/{review.uuid}/answers/{answer.question.uuid}"


def test_answers_list_every_question_with_a_cursor(cast, review, api_as):
    api = api_as(cast.viewer, "read")
    first = api.get(f"/api/sessions/{review.uuid}/answers", limit=10).json()
    assert len(first["results"]) == 10
    second = api.get(f"/api/sessions/{review.uuid}/answers", limit=10, cursor=first["next"])
    assert second.status_code == 200
    uuids = [a["question_uuid"] for a in first["results"] + second.json()["results"]]
    assert len(set(uuids)) == 20
    assert first["results"][0]["risk"] == "UNANSWERED"


def test_the_answer_list_costs_a_fixed_number_of_queries(
    cast, review, answer, api_as, django_assert_max_num_queries
):
    api = api_as(cast.admin, "write")
    api.patch(url(review, answer), {"select": HIGH})
    with django_assert_max_num_queries(8):
        response = api.get(f"/api/sessions/{review.uuid}/answers", limit=100)
    assert response.status_code == 200


def test_selecting_and_unselecting_go_through_the_answer_service(cast, review, answer, api_as):
    api = api_as(cast.admin, "write")
    response = api.patch(url(review, answer), {"select": HIGH})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["selected"] == sorted(HIGH)
    assert body["risk"] == "MEDIUM"
    assert selected(answer) == set(HIGH)
    assert AnswerChange.objects.filter(answer=answer, action="select").count() == 4
    body = api.patch(url(review, answer), {"unselect": [HIGH[0]]}).json()
    assert body["risk"] == "HIGH" and HIGH[0] not in body["selected"]
    detail = api.get(url(review, answer)).json()
    assert detail == body


def test_notes_with_their_revision_and_a_stale_save_is_a_409(cast, review, answer, api_as):
    api = api_as(cast.admin, "write")
    body = api.patch(url(review, answer), {"notes": "First.", "notes_revision": 0}).json()
    assert (body["notes"], body["notes_revision"]) == ("First.", 1)
    stale = api.patch(url(review, answer), {"notes": "Mine.", "notes_revision": 0})
    assert stale.status_code == 409
    assert stale.json()["notes"] == "First." and stale.json()["notes_revision"] == 1


def test_a_refused_part_saves_nothing(cast, review, answer, api_as):
    api = api_as(cast.admin, "write")
    api.patch(url(review, answer), {"notes": "First.", "notes_revision": 0})
    response = api.patch(
        url(review, answer), {"select": HIGH, "notes": "Stale.", "notes_revision": 0}
    )
    assert response.status_code == 409
    assert selected(answer) == set()
    assert not AnswerChange.objects.filter(answer=answer, action="select").exists()


def test_not_applicable_with_its_reason(cast, review, answer, api_as):
    api = api_as(cast.admin, "write")
    body = api.patch(
        url(review, answer), {"not_applicable": True, "not_applicable_reason": "out_of_scope"}
    ).json()
    assert body["not_applicable"] is True
    assert body["not_applicable_reason"] == "out_of_scope"
    assert body["risk"] == "NOT_APPLICABLE"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"select": ["no_such_choice"]}, "select"),
        ({"unselect": ["no_such_choice"]}, "unselect"),
        ({"select": "ops_priorities_ext_cust_needs"}, "select"),
        ({"notes": "x"}, "body"),
        ({"notes": "x", "notes_revision": -1}, "notes_revision"),
        ({"notes": "x" * 10_001, "notes_revision": 0}, "notes"),
        ({"not_applicable": True}, "body"),
        ({"not_applicable": True, "not_applicable_reason": "lazy"}, "not_applicable_reason"),
        ({"select": [HIGH[0]], "unselect": [HIGH[0]]}, "body"),
    ],
)
def test_a_bad_change_is_400_naming_the_field_and_saves_nothing(
    cast, review, answer, api_as, payload, field
):
    api = api_as(cast.admin, "write")
    response = api.patch(url(review, answer), {"select": [HIGH[1]], **payload})
    assert response.status_code == 400, response.json()
    assert field in [e["field"] for e in response.json()["errors"]]
    assert selected(answer) == set()
    answer.refresh_from_db()
    assert answer.notes == "" and answer.not_applicable is False


def test_a_body_that_is_not_json_is_400(cast, review, answer, api_as):
    api = api_as(cast.admin, "write")
    response = api.client.patch(
        url(review, answer), "{nope", content_type="application/json", headers=api.headers
    )
    assert response.status_code == 400


def test_a_read_token_cannot_write(cast, review, answer, api_as):
    response = api_as(cast.admin, "read").patch(url(review, answer), {"select": HIGH})
    assert response.status_code == 403
    assert "read" in response.json()["detail"]
    assert selected(answer) == set()


def test_a_member_who_is_not_answering_cannot_write(cast, review, answer, api_as):
    # The same rule as the live page: answering takes a participant's answering role.
    response = api_as(cast.member, "write").patch(url(review, answer), {"select": HIGH})
    assert response.status_code == 403
    Participant.objects.create(session=review, user=cast.member, role="observer")
    response = api_as(cast.member, "write").patch(url(review, answer), {"select": HIGH})
    assert response.status_code == 403
    Participant.objects.filter(user=cast.member).update(role="operations")
    response = api_as(cast.member, "write").patch(url(review, answer), {"select": HIGH})
    assert response.status_code == 200


def test_answers_close_with_the_review(cast, review, answer, api_as):
    review.phase = Phase.ANALYSIS
    review.save(update_fields=["phase"])
    response = api_as(cast.admin, "write").patch(url(review, answer), {"select": HIGH})
    assert response.status_code == 403


def test_a_blind_round_holds_the_shared_answer(cast, review, answer, api_as):
    blind.blind_open(session=review, user=cast.admin, question_id=answer.question_id)
    response = api_as(cast.admin, "write").patch(url(review, answer), {"select": HIGH})
    assert response.status_code == 409
    assert selected(answer) == set()


def test_the_outsider_meets_404(cast, review, answer, api_as):
    api = api_as(cast.outsider, "write")
    assert api.get(f"/api/sessions/{review.uuid}/answers").status_code == 404
    assert api.get(url(review, answer)).status_code == 404
    assert api.patch(url(review, answer), {"select": HIGH}).status_code == 404
    assert selected(answer) == set()


def test_a_question_outside_the_review_is_404(cast, review, api_as):
    from uuid import uuid4

    response = api_as(cast.admin, "read").get(f"/api/sessions/{review.uuid}/answers/{uuid4()}")
    assert response.status_code == 404


def test_best_practices_marked_not_applicable_and_cleared(cast, review, answer, api_as):
    api = api_as(cast.admin, "write")
    body = api.patch(
        url(review, answer),
        {
            "select": [HIGH[0]],
            "mark_not_applicable": [
                {"choice": HIGH[1], "reason": "business_priorities", "notes": "Later."}
            ],
        },
    ).json()
    assert body["selected"] == [HIGH[0]]
    assert body["not_applicable_choices"] == [
        {"choice": HIGH[1], "reason": "business_priorities", "notes": "Later."}
    ]
    assert AnswerChange.objects.filter(answer=answer, action="choice_na").exists()
    body = api.patch(url(review, answer), {"clear_not_applicable": [HIGH[1]]}).json()
    assert body["not_applicable_choices"] == []


@pytest.mark.parametrize(
    ("mark", "field"),
    [
        ({"choice": "ops_priorities_no", "reason": "other"}, "mark_not_applicable"),
        ({"choice": "no_such_choice", "reason": "other"}, "mark_not_applicable"),
        ({"choice": HIGH[1], "reason": "lazy"}, "mark_not_applicable.0.reason"),
        ({"choice": HIGH[1], "reason": "other", "notes": "x" * 251}, "mark_not_applicable.0.notes"),
    ],
)
def test_a_bad_mark_is_400_naming_the_field_and_saves_nothing(
    cast, review, answer, api_as, mark, field
):
    api = api_as(cast.admin, "write")
    response = api.patch(url(review, answer), {"select": [HIGH[0]], "mark_not_applicable": [mark]})
    assert response.status_code == 400, response.json()
    assert field in [e["field"] for e in response.json()["errors"]]
    assert selected(answer) == set()
    assert not answer.choice_exclusions.exists()
