"""The live questionnaire over HTTP: pages, fragments, htmx partials and plain-form fallbacks,
and who may do what."""

import pytest
from django.urls import reverse

from reviews import answers, focus
from reviews.models import BlindRound, ParkingLotItem, Participant, ParticipantRole

HX = {"HTTP_HX_REQUEST": "true"}
HIGH0 = "ops_priorities_ext_cust_needs"


@pytest.fixture
def people(cast, review):
    """Bob answers (operations), Fay is finance, Vic observes; Alice facilitates."""
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.OPERATIONS)
    Participant.objects.create(session=review, user=cast.finance, role=ParticipantRole.FINANCE)
    Participant.objects.create(session=review, user=cast.viewer, role=ParticipantRole.OBSERVER)
    return cast


def q_url(name, review, answer, *extra):
    return reverse(f"reviews:{name}", args=[review.uuid, answer.question.uuid, *extra])


def test_live_redirects_to_the_first_unanswered_question(client, people, review, answer):
    client.force_login(people.member)
    response = client.get(reverse("reviews:session_live", args=[review.uuid]))
    assert response["Location"] == q_url("question", review, answer)


def test_live_redirects_to_the_facilitators_focus(client, people, review):
    target = review.answers.select_related("question").get(question__ident="securely-operate")
    focus.focus_set(session=review, user=people.admin, question_id=target.question_id)
    client.force_login(people.member)
    response = client.get(reverse("reviews:session_live", args=[review.uuid]))
    assert response["Location"] == q_url("question", review, target)


def test_question_page_has_everything(
    client, people, review, answer, django_assert_max_num_queries
):
    client.force_login(people.member)
    with django_assert_max_num_queries(30):
        response = client.get(q_url("question", review, answer))
    body = response.content.decode()
    assert response.status_code == 200
    for marker in (
        'id="nav"',
        'id="choices"',
        'id="notes"',
        'id="facilitator"',
        'id="presence"',
        'id="parking"',
        # with where the session's events stand, to resume from
        f'sse-connect="{reverse("reviews:session_events", args=[review.uuid])}?last=',
    ):
        assert marker in body, marker
    assert "0 of 57 answered" in body
    assert f'hx-trigger="sse:answer-{answer.question.uuid}' in body


def test_toggle_with_htmx_answers_204_and_the_fragment_shows_the_change(
    client, people, review, answer
):
    client.force_login(people.member)
    response = client.post(q_url("choice_toggle", review, answer, HIGH0), {"select": "1"}, **HX)
    assert response.status_code == 204
    assert set(answer.selections.values_list("choice__ident", flat=True)) == {HIGH0}
    body = client.get(q_url("question_fragment", review, answer, "choices"), **HX).content.decode()
    assert body.lstrip().startswith('<div id="choices"') and "<html" not in body
    assert 'id="risk-badge" class="badge risk-HIGH"' in body
    assert f'value="{HIGH0}" checked' in body


def test_toggle_without_htmx_redirects_back(client, people, review, answer):
    client.force_login(people.member)
    response = client.post(q_url("choice_toggle", review, answer, HIGH0), {"select": "1"})
    assert response.status_code == 302 and response["Location"] == q_url("question", review, answer)


def test_toggle_needs_a_valid_select_and_choice(client, people, review, answer):
    client.force_login(people.member)
    assert client.post(q_url("choice_toggle", review, answer, HIGH0), {}).status_code == 400
    response = client.post(q_url("choice_toggle", review, answer, "nope"), {"select": "1"})
    assert (
        response.status_code == 400 and "not a choice of this question" in response.content.decode()
    )


def test_plain_form_posts_apply_as_operations(client, people, review, answer):
    answers.answer_toggle(
        answer=answer, user=people.admin, choice_ident="ops_priorities_int_cust_needs", select=True
    )
    client.force_login(people.member)
    response = client.post(q_url("answer_form", review, answer), {"selected": [HIGH0], "shown": []})
    assert response.status_code == 302
    assert set(answer.selections.values_list("choice__ident", flat=True)) == {
        HIGH0,
        "ops_priorities_int_cust_needs",
    }


@pytest.mark.parametrize("who", ["finance", "viewer"])
def test_finance_and_observers_cannot_change_answers(client, people, review, answer, who):
    client.force_login(getattr(people, who))
    assert client.get(q_url("question", review, answer)).status_code == 200
    for url, data in (
        (q_url("choice_toggle", review, answer, HIGH0), {"select": "1"}),
        (q_url("answer_form", review, answer), {"selected": [HIGH0]}),
        (q_url("applicability", review, answer), {"not_applicable": "on", "reason": "other"}),
        (q_url("notes_save", review, answer), {"text": "x", "revision": "0"}),
    ):
        assert client.post(url, data).status_code == 403
    assert not answer.selections.exists()


def test_team_member_who_is_not_a_participant_reads_only(client, cast, review, answer):
    client.force_login(cast.member)
    body = client.get(q_url("question", review, answer)).content.decode()
    assert "You are not a participant of this review" in body
    assert (
        client.post(q_url("choice_toggle", review, answer, HIGH0), {"select": "1"}).status_code
        == 403
    )


def test_answers_close_after_the_review(client, people, review, answer):
    review.phase = "analysis"
    review.save(update_fields=["phase"])
    client.force_login(people.member)
    assert "Answers are closed" in client.get(q_url("question", review, answer)).content.decode()
    assert (
        client.post(q_url("choice_toggle", review, answer, HIGH0), {"select": "1"}).status_code
        == 409
    )


def test_applicability_with_and_without_a_reason(client, people, review, answer):
    client.force_login(people.member)
    response = client.post(
        q_url("applicability", review, answer), {"not_applicable": "on", "reason": ""}, **HX
    )
    assert "Say why this question does not apply." in response.content.decode()
    response = client.post(
        q_url("applicability", review, answer),
        {"not_applicable": "on", "reason": "business_priorities"},
        **HX,
    )
    assert response.status_code == 204
    choices = client.get(q_url("question_fragment", review, answer, "choices"), **HX)
    assert "Does not apply: business priorities" in choices.content.decode()
    answer.refresh_from_db()
    assert answer.risk == "NOT_APPLICABLE"


def test_notes_save_and_render_sanitised(client, people, review, answer):
    client.force_login(people.member)
    response = client.post(
        q_url("notes_save", review, answer),
        {"text": "**Bold** <script>x()</script>", "revision": "0"},
        **HX,
    )
    body = response.content.decode()
    assert "<strong>Bold</strong>" in body and "<script>" not in body


def test_stale_notes_save_shows_both_versions(client, people, review, answer):
    answers.answer_save_notes(answer=answer, user=people.admin, text="Theirs", base_revision=0)
    client.force_login(people.member)
    response = client.post(
        q_url("notes_save", review, answer), {"text": "Mine", "revision": "0"}, **HX
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "These notes changed while you were editing" in body
    assert "Theirs" in body and "Mine</textarea>" in body
    assert 'name="revision" value="1"' in body  # saving again is based on their version
    plain = client.post(q_url("notes_save", review, answer), {"text": "Mine", "revision": "0"})
    assert plain.status_code == 409 and "Their version (saved)" in plain.content.decode()
    answer.refresh_from_db()
    assert answer.notes == "Theirs"


def test_notes_stale_fragment_warns_the_editor(client, people, review, answer):
    client.force_login(people.member)
    url = q_url("question_fragment", review, answer, "notes_stale")
    assert "Someone changed" not in client.get(url + "?revision=0", **HX).content.decode()
    answers.answer_save_notes(answer=answer, user=people.admin, text="New", base_revision=0)
    assert "Someone changed these notes" in client.get(url + "?revision=0", **HX).content.decode()


@pytest.mark.parametrize(
    "name",
    sorted(
        {
            "nav",
            "choices",
            "notes",
            "notes_edit",
            "facilitator",
            "presence",
            "parking",
            "history",
            "phase",
        }
    ),
)
def test_each_fragment_renders_alone(client, people, review, answer, name):
    client.force_login(people.member)
    response = client.get(q_url("question_fragment", review, answer, name), **HX)
    assert response.status_code == 200 and "<html" not in response.content.decode()


def test_unknown_fragment_is_404(client, people, review, answer):
    client.force_login(people.member)
    assert client.get(q_url("question_fragment", review, answer, "secrets")).status_code == 404


def test_history_lists_who_changed_what(client, people, review, answer):
    answers.answer_toggle(answer=answer, user=people.member, choice_ident=HIGH0, select=True)
    client.force_login(people.viewer)
    body = client.get(q_url("question_history", review, answer)).content.decode()
    assert (
        "Bob Member" in body
        and "selected" in body
        and "Understand what external customers depend on" in body
    )


def test_facilitator_sets_focus_and_others_cannot(client, people, review, answer):
    client.force_login(people.member)
    assert (
        client.post(
            reverse("reviews:focus", args=[review.uuid]), {"question": answer.question.uuid}
        ).status_code
        == 403
    )
    client.force_login(people.admin)
    response = client.post(
        reverse("reviews:focus", args=[review.uuid]), {"question": answer.question.uuid}, **HX
    )
    assert response.status_code == 204
    panel = client.get(q_url("question_fragment", review, answer, "facilitator"), **HX)
    assert "this question" in panel.content.decode()
    review.refresh_from_db()
    assert review.focus_question_id == answer.question_id


def test_follow_toggle_is_saved(client, people, review, answer):
    client.force_login(people.member)
    client.post(
        reverse("reviews:follow", args=[review.uuid]),
        {"question": answer.question.uuid, "follow": "0"},
        **HX,
    )
    assert not Participant.objects.get(session=review, user=people.member).follows_facilitator


def test_parking_lot_add_validate_and_dismiss(client, people, review, answer):
    url = reverse("reviews:parking_add", args=[review.uuid])
    client.force_login(people.viewer)  # observes: writes nothing
    response = client.post(url, {"question": answer.question.uuid, "text": "Look"}, **HX)
    assert response.status_code == 403 and not ParkingLotItem.objects.exists()
    client.force_login(people.finance)
    response = client.post(url, {"question": answer.question.uuid, "text": "   "}, **HX)
    assert response.status_code == 400
    assert response.content.decode() == "Parking lot: This field is required."
    response = client.post(
        url, {"question": answer.question.uuid, "text": "Look at  DR drills"}, **HX
    )
    assert response.status_code == 204
    parking = client.get(q_url("question_fragment", review, answer, "parking"), **HX)
    assert "Look at DR drills" in parking.content.decode()
    item = ParkingLotItem.objects.get(session=review)
    client.force_login(people.member)  # not the author, not the facilitator
    assert (
        client.post(
            reverse("reviews:parking_dismiss", args=[review.uuid, item.uuid]),
            {"question": answer.question.uuid},
        ).status_code
        == 403
    )
    client.force_login(people.admin)
    client.post(
        reverse("reviews:parking_dismiss", args=[review.uuid, item.uuid]),
        {"question": answer.question.uuid},
        **HX,
    )
    item.refresh_from_db()
    assert item.dismissed_at is not None


def test_blind_round_hides_picks_until_reveal(client, people, review, answer):
    blind = lambda step: q_url("blind", review, answer, step)  # noqa: E731
    client.force_login(people.member)
    assert client.post(blind("open")).status_code == 403
    client.force_login(people.admin)
    client.post(blind("open"), **HX)
    assert BlindRound.objects.filter(session=review, closed_at__isnull=True).count() == 1
    # Bob picks privately; the shared answer is not touched and toggles are refused meanwhile.
    client.force_login(people.member)
    client.post(blind("pick"), {"choice": HIGH0, "select": "1"}, **HX)
    assert (
        client.post(q_url("choice_toggle", review, answer, HIGH0), {"select": "1"}).status_code
        == 403
    )
    # Alice sees that Bob picked, not what.
    client.force_login(people.admin)
    body = client.get(q_url("question_fragment", review, answer, "choices"), **HX).content.decode()
    assert "✓ Bob Member" in body and "The picks, side by side" not in body
    assert 'aria-pressed="true"' not in body
    client.post(blind("pick"), {"choice": "ops_priorities_int_cust_needs", "select": "1"}, **HX)
    assert client.post(blind("reveal"), **HX).status_code == 204
    body = client.get(q_url("question_fragment", review, answer, "choices"), **HX).content.decode()
    assert "The picks, side by side" in body and 'class="disagree"' in body
    client.force_login(people.member)
    late = client.post(blind("pick"), {"choice": HIGH0, "select": "0"}, **HX)
    assert late.status_code == 400 and "no longer takes picks" in late.content.decode()
    client.force_login(people.admin)
    client.post(blind("agree"), {"selected": [HIGH0, "ops_priorities_int_cust_needs"]}, **HX)
    assert set(answer.selections.values_list("choice__ident", flat=True)) == {
        HIGH0,
        "ops_priorities_int_cust_needs",
    }
    assert not BlindRound.objects.filter(session=review, closed_at__isnull=True).exists()


def test_blind_unknown_step_is_404(client, people, review, answer):
    client.force_login(people.admin)
    assert client.post(q_url("blind", review, answer, "dance")).status_code == 404


def test_wrong_methods(client, people, review, answer):
    client.force_login(people.member)
    assert client.get(q_url("choice_toggle", review, answer, HIGH0)).status_code == 405
    assert client.get(q_url("notes_save", review, answer)).status_code == 405
    assert client.post(q_url("question", review, answer)).status_code == 405
    assert client.post(q_url("question_fragment", review, answer, "nav")).status_code == 405
    assert client.get(reverse("reviews:focus", args=[review.uuid])).status_code == 405
    assert client.post(reverse("reviews:session_events", args=[review.uuid])).status_code == 405


# --- Who answers what (issue 10, points 3 and 4) ------------------------------------------------


@pytest.fixture
def cost_answer(review):
    """The review's answer to the framework's first cost optimisation question."""
    return (
        review.answers.filter(
            question__pillar__ident="costOptimization", question__pillar__lens__is_framework=True
        )
        .select_related("question")
        .order_by("question__order")
        .first()
    )


def first_choice(answer):
    return answer.question.choices.filter(is_none_of_these=False).order_by("order").first().ident


def test_finance_answers_the_cost_pillar(client, people, review, cost_answer):
    client.force_login(people.finance)
    choice = first_choice(cost_answer)
    response = client.post(
        q_url("choice_toggle", review, cost_answer, choice), {"select": "1"}, **HX
    )
    assert response.status_code == 204
    assert cost_answer.selections.filter(choice__ident=choice).exists()
    page = client.get(q_url("question", review, cost_answer)).content.decode()
    assert f'value="{choice}" checked' in page  # answerable: the checkbox is live
    assert f'value="{choice}" checked disabled' not in page


def test_finance_is_refused_outside_the_cost_pillar_and_told_why(client, people, review, answer):
    client.force_login(people.finance)
    response = client.post(q_url("choice_toggle", review, answer, HIGH0), {"select": "1"}, **HX)
    assert response.status_code == 403
    assert (
        response.content.decode() == "As finance you answer the cost optimisation questions only."
    )
    assert not answer.selections.exists()


@pytest.mark.parametrize("role", ["facilitator", "workload_owner"])
def test_a_team_viewer_never_answers_even_as_facilitator_or_owner(
    client, cast, review, answer, role
):
    Participant.objects.create(session=review, user=cast.viewer, role=role)
    client.force_login(cast.viewer)
    for url, data in (
        (q_url("choice_toggle", review, answer, HIGH0), {"select": "1"}),
        (q_url("answer_form", review, answer), {"selected": [HIGH0]}),
        (q_url("notes_save", review, answer), {"text": "x", "revision": "0"}),
        (
            reverse("reviews:parking_add", args=[review.uuid]),
            {"question": answer.question.uuid, "text": "x"},
        ),
        (reverse("reviews:focus", args=[review.uuid]), {"question": answer.question.uuid}),
        (q_url("blind", review, answer, "open"), {}),
    ):
        assert client.post(url, data, **HX).status_code == 403, url
    assert not answer.selections.exists() and not answer.changes.exists()
    assert not ParkingLotItem.objects.exists() and not BlindRound.objects.exists()
    review.refresh_from_db()
    assert review.focus_question_id is None


def test_finance_takes_part_in_blind_rounds_on_cost_questions(client, people, review, cost_answer):
    blind = lambda step: q_url("blind", review, cost_answer, step)  # noqa: E731
    choice = first_choice(cost_answer)
    client.force_login(people.admin)
    client.post(blind("open"), **HX)
    client.force_login(people.finance)
    assert client.post(blind("pick"), {"choice": choice, "select": "1"}, **HX).status_code == 204
    page = client.get(q_url("question_fragment", review, cost_answer, "choices"), **HX)
    assert "Fay Finance" in page.content.decode()
    client.force_login(people.admin)
    client.post(blind("reveal"), **HX)
    revealed = client.get(q_url("question_fragment", review, cost_answer, "choices"), **HX)
    assert '<th class="num">Fay Finance</th>' in revealed.content.decode()  # her pick counts


def test_finance_is_left_out_of_blind_rounds_on_other_pillars(client, people, review, answer):
    blind = lambda step: q_url("blind", review, answer, step)  # noqa: E731
    client.force_login(people.admin)
    client.post(blind("open"), **HX)
    client.force_login(people.finance)
    response = client.post(blind("pick"), {"choice": HIGH0, "select": "1"}, **HX)
    assert response.status_code == 403
    assert not BlindRound.objects.get(session=review).picks.exists()
    page = client.get(q_url("question_fragment", review, answer, "choices"), **HX)
    assert "Fay Finance" not in page.content.decode()


@pytest.mark.parametrize("name", ["question", "question_history", "question_fragment"], ids=str)
def test_read_views_refuse_post(client, people, review, answer, name):
    client.force_login(people.member)
    extra = ["nav"] if name == "question_fragment" else []
    assert client.post(q_url(name, review, answer, *extra)).status_code == 405
    assert client.head(q_url(name, review, answer, *extra)).status_code == 200
