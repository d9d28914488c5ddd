"""Pushing a review to the AWS Well-Architected Tool, against botocore's Stubber: the calls
of a fully answered framework review, best practices and questions that do not apply, notes
cut to AWS's limit, pages of listings, a custom lens by ARN with a question and a choice that
have no counterpart there, and a second push that finds the workload instead of creating one."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.management import CommandError, call_command

from actions.aws import NOTES_MAX_LENGTH
from actions.aws.export import CUT_MARKER, plan_build
from actions.aws.push import AwsError, aws_push
from reviews import answers, choices, errors, sessions
from reviews.models import Participant, ParticipantRole
from tests.actions.aws_helpers import (
    CUSTOM_ARN,
    WORKLOAD_ARN,
    WORKLOAD_ID,
    questions,
    stub_pages,
    stubbed_client,
    summary,
)
from tests.bench.pdf import answer_all

DAY = date(2026, 11, 30)
LONG_NOTES = "Backups are tested monthly. " * 100  # 2,800 characters


@pytest.fixture
def answered(cast, review):
    """The framework lens fully answered, with best practices that do not apply and notes
    too long for AWS."""
    cast.workload.regions = ["eu-west-1", "us-east-1", "On premises (Paris)"]
    cast.workload.architecture_url = "https://wiki.example.com/checkout"
    cast.workload.save()
    answer_all(session=review, user=cast.admin)
    priorities = review.answers.get(question__ident="priorities")
    answers.answer_set_exact(
        answer=priorities,
        user=cast.admin,
        selected={"ops_priorities_ext_cust_needs", "ops_priorities_int_cust_needs"},
    )
    choices.choice_mark_not_applicable(
        answer=priorities,
        user=cast.admin,
        choice_ident="ops_priorities_compliance_reqs",
        reason="business_priorities",
        notes="No regulator for this one",
    )
    choices.choice_mark_not_applicable(
        answer=priorities,
        user=cast.admin,
        choice_ident="ops_priorities_eval_tradeoffs",
        reason="other",
    )
    priorities.refresh_from_db()
    answers.answer_save_notes(
        answer=priorities,
        user=cast.admin,
        text=LONG_NOTES,
        base_revision=priorities.notes_revision,
    )
    return review


def by_question(plan):
    return {call.question_id: call for call in plan.answers}


def framework_summaries(lens):
    return [summary(q) for q in questions(lens)]


def queue_push(stub, plan, lens, *, existing=False, milestone_conflict=False):
    """The requests a push makes, in order, each with its canned response."""
    name = plan.workload_name
    other = {"WorkloadId": "f" * 32, "WorkloadName": f"{name} (old)"}
    found = [{"WorkloadId": WORKLOAD_ID, "WorkloadName": name.upper()}] if existing else []
    stub_pages(
        stub,
        "list_workloads",
        "WorkloadSummaries",
        [other, *found],
        {"WorkloadNamePrefix": name},
        size=1,
    )
    if existing:
        stub.add_response(
            "get_workload",
            {"Workload": {"WorkloadId": WORKLOAD_ID, "Lenses": ["wellarchitected"]}},
            {"WorkloadId": WORKLOAD_ID},
        )
    else:
        stub.add_response(
            "create_workload",
            {"WorkloadId": WORKLOAD_ID, "WorkloadArn": WORKLOAD_ARN},
            plan.create_workload.params,
        )
    stub_pages(
        stub,
        "list_answers",
        "AnswerSummaries",
        framework_summaries(lens),
        {"WorkloadId": WORKLOAD_ID, "LensAlias": "wellarchitected"},
        size=50,
        extra={"WorkloadId": WORKLOAD_ID, "LensAlias": "wellarchitected"},
    )
    for call in plan.answers:
        stub.add_response(
            "update_answer",
            {"WorkloadId": WORKLOAD_ID, "LensAlias": "wellarchitected"},
            {**call.params, "WorkloadId": WORKLOAD_ID},
        )
    for call in plan.lens_notes:
        stub.add_response(
            "update_lens_review",
            {"WorkloadId": WORKLOAD_ID},
            {**call.params, "WorkloadId": WORKLOAD_ID},
        )
    milestone = {**plan.milestone.params, "WorkloadId": WORKLOAD_ID}
    if milestone_conflict:
        stub.add_client_error(
            "create_milestone",
            service_error_code="ConflictException",
            service_message="A milestone with this name exists.",
            http_status_code=409,
            expected_params=milestone,
        )
    else:
        stub.add_response(
            "create_milestone", {"WorkloadId": WORKLOAD_ID, "MilestoneNumber": 1}, milestone
        )


def test_the_plan_of_a_fully_answered_framework_review(answered, cast):
    plan = plan_build(session=answered, today=DAY)
    workload = plan.create_workload.params
    assert workload["WorkloadName"] == "Checkout"
    assert workload["Environment"] == "PRODUCTION"
    assert workload["Lenses"] == ["wellarchitected"]
    assert workload["AwsRegions"] == ["eu-west-1", "us-east-1"]
    assert workload["NonAwsRegions"] == ["On premises (Paris)"]
    assert workload["ArchitecturalDesign"] == "https://wiki.example.com/checkout"
    assert workload["ReviewOwner"] == "bob@example.com"
    # Critical e-commerce: reliability and security first, then performance.
    assert workload["PillarPriorities"][:3] == ["reliability", "security", "performance"]
    assert len(workload["PillarPriorities"]) == 6
    assert len(plan.answers) == 57 and plan.not_exported == []

    priorities = by_question(plan)["priorities"].params
    assert priorities["SelectedChoices"] == [
        "ops_priorities_ext_cust_needs",
        "ops_priorities_int_cust_needs",
    ]
    assert priorities["ChoiceUpdates"] == {
        "ops_priorities_compliance_reqs": {
            "Status": "NOT_APPLICABLE",
            "Reason": "BUSINESS_PRIORITIES",
            "Notes": "No regulator for this one",
        },
        "ops_priorities_eval_tradeoffs": {"Status": "NOT_APPLICABLE", "Reason": "OTHER"},
    }
    assert priorities["IsApplicable"] is True and "Reason" not in priorities
    assert len(priorities["Notes"]) == NOTES_MAX_LENGTH
    assert priorities["Notes"].endswith(CUT_MARKER)
    assert priorities["Notes"].startswith("Backups are tested monthly.")
    assert any("notes were cut from 2,800 to 2,084" in w for w in plan.warnings)

    not_applicable = [c.params for c in plan.answers if not c.params["IsApplicable"]]
    assert not_applicable and all(p["Reason"] == "OUT_OF_SCOPE" for p in not_applicable)
    assert plan.milestone.params["MilestoneName"] == "Checkout review · 2026-11-30"
    (notes,) = plan.lens_notes
    assert "Checkout review" in notes.params["LensNotes"]
    assert "Alice Admin (facilitator)" in notes.params["LensNotes"]


def test_push_creates_the_workload_and_answers_every_question(answered, cast, lenses):
    plan = plan_build(session=answered, today=DAY)
    client, stub = stubbed_client()
    queue_push(stub, plan, lenses["Well-Architected Framework"])
    with stub:
        result = aws_push(client=client, plan=plan)
    stub.assert_no_pending_responses()
    assert result.created and result.workload_id == WORKLOAD_ID
    assert len(result.updated) == 57 and result.not_exported == []
    assert result.milestone_number == 1


def test_pushing_again_finds_the_workload_instead_of_creating_another(answered, cast, lenses):
    plan = plan_build(session=answered, today=DAY)
    client, stub = stubbed_client()
    # The workload exists (AWS compares names without case); the milestone of the day too.
    # The Stubber refuses any request not queued: a CreateWorkload would fail the test.
    queue_push(
        stub, plan, lenses["Well-Architected Framework"], existing=True, milestone_conflict=True
    )
    with stub:
        result = aws_push(client=client, plan=plan)
    stub.assert_no_pending_responses()
    assert not result.created and result.workload_id == WORKLOAD_ID
    assert result.milestone_number is None
    assert any("exists there already" in w for w in result.warnings)


def test_an_error_from_aws_stops_the_push_and_says_which_call(answered, cast):
    plan = plan_build(session=answered, today=DAY)
    client, stub = stubbed_client()
    stub.add_client_error(
        "list_workloads",
        service_error_code="AccessDeniedException",
        service_message="User is not authorized",
        http_status_code=403,
    )
    with stub, pytest.raises(AwsError, match="ListWorkloads .*AccessDeniedException"):
        aws_push(client=client, plan=plan)


# --- A custom lens ---------------------------------------------------------------------------


@pytest.fixture
def with_serverless(cast, lenses):
    review = sessions.session_create(
        workload=cast.workload,
        user=cast.admin,
        title="Serverless review",
        kind="periodic",
        review_starts_at=answered_at(),
        lenses=[lenses["Serverless Lens"]],
    )
    serverless = questions(lenses["Serverless Lens"])
    for question in serverless[:2]:
        answer = review.answers.get(question=question)
        first = question.choices.exclude(is_none_of_these=True).first()
        answers.answer_toggle(answer=answer, user=cast.admin, choice_ident=first.ident, select=True)
    framework = review.answers.get(question__ident="priorities")
    answers.answer_toggle(
        answer=framework,
        user=cast.admin,
        choice_ident="ops_priorities_ext_cust_needs",
        select=True,
    )
    return review, serverless


def answered_at():
    from django.utils import timezone

    return timezone.now()


def test_a_custom_lens_without_an_arn_is_reported_not_dropped(with_serverless, cast):
    review, serverless = with_serverless
    plan = plan_build(session=review, today=DAY)
    assert [c.question_id for c in plan.answers] == ["priorities"]
    assert len(plan.not_exported) == 2
    assert all("“Serverless Lens” has no counterpart" in line for line in plan.not_exported)
    assert serverless[0].ident in plan.not_exported[0]


def test_a_custom_lens_maps_by_arn_and_missing_ids_are_reported(with_serverless, cast, lenses):
    review, serverless = with_serverless
    plan = plan_build(session=review, lens_arns={"Serverless Lens": CUSTOM_ARN}, today=DAY)
    assert plan.lens_aliases == ["wellarchitected", CUSTOM_ARN]
    assert plan.create_workload.params["Lenses"] == ["wellarchitected", CUSTOM_ARN]
    kept, gone = serverless[0], serverless[1]
    kept_choice = kept.choices.exclude(is_none_of_these=True).first().ident
    client, stub = stubbed_client()
    stub.add_response(
        "list_workloads",
        {"WorkloadSummaries": [{"WorkloadId": WORKLOAD_ID, "WorkloadName": "Checkout"}]},
        {"WorkloadNamePrefix": "Checkout", "MaxResults": 50},
    )
    stub.add_response(
        "get_workload",
        {"Workload": {"WorkloadId": WORKLOAD_ID, "Lenses": ["wellarchitected"]}},
        {"WorkloadId": WORKLOAD_ID},
    )
    stub.add_response(
        "associate_lenses", {}, {"WorkloadId": WORKLOAD_ID, "LensAliases": [CUSTOM_ARN]}
    )
    framework = framework_summaries(lenses["Well-Architected Framework"])
    stub_pages(
        stub,
        "list_answers",
        "AnswerSummaries",
        framework,
        {"WorkloadId": WORKLOAD_ID, "LensAlias": "wellarchitected"},
        size=50,
    )
    # The lens there lacks the second question, and the first question's first choice.
    there = summary(kept)
    there["Choices"] = [c for c in there["Choices"] if c["ChoiceId"] != kept_choice]
    stub.add_response(
        "list_answers",
        {"AnswerSummaries": [there]},
        {"WorkloadId": WORKLOAD_ID, "LensAlias": CUSTOM_ARN, "MaxResults": 50},
    )
    calls = by_question(plan)
    stub.add_response(
        "update_answer",
        {},
        {**calls["priorities"].params, "WorkloadId": WORKLOAD_ID},
    )
    stub.add_response(
        "update_answer",
        {},
        {**calls[kept.ident].params, "WorkloadId": WORKLOAD_ID, "SelectedChoices": []},
    )
    for call in plan.lens_notes:
        stub.add_response("update_lens_review", {}, {**call.params, "WorkloadId": WORKLOAD_ID})
    stub.add_response(
        "create_milestone",
        {"WorkloadId": WORKLOAD_ID, "MilestoneNumber": 4},
        {**plan.milestone.params, "WorkloadId": WORKLOAD_ID},
    )
    with stub:
        result = aws_push(client=client, plan=plan)
    stub.assert_no_pending_responses()
    assert not result.created and result.milestone_number == 4
    assert len(result.updated) == 2
    assert any(gone.ident in line and "no such question" in line for line in result.not_exported)
    assert any(kept_choice in line and "no such choice" in line for line in result.not_exported)


def test_a_bad_arn_or_an_unknown_lens_name_is_refused(with_serverless):
    review, _ = with_serverless
    with pytest.raises(errors.ServiceError, match="is not the ARN of a lens"):
        plan_build(session=review, lens_arns={"Serverless Lens": "arn:nope"})
    with pytest.raises(errors.ServiceError, match="no lens named “Nope”"):
        plan_build(session=review, lens_arns={"Nope": CUSTOM_ARN})


# --- The command -------------------------------------------------------------------------------


def test_the_command_dry_run_prints_the_calls(answered, cast, capsys):
    call_command("push_to_aws", str(answered.uuid), "--user", "alice", "--dry-run")
    printed = json.loads(capsys.readouterr().out)
    operations = [call["operation"] for call in printed["calls"]]
    assert operations[0] == "CreateWorkload" and operations.count("UpdateAnswer") == 57
    assert operations[-2:] == ["UpdateLensReview", "CreateMilestone"]


def test_the_command_pushes_with_the_client(answered, cast, lenses, monkeypatch, capsys):
    client, stub = stubbed_client()
    plan = plan_build(session=answered)
    queue_push(stub, plan, lenses["Well-Architected Framework"])
    monkeypatch.setattr(
        "actions.management.commands.push_to_aws.wellarchitected_client", lambda **kw: client
    )
    with stub:
        call_command("push_to_aws", str(answered.uuid), "--user", "alice@example.com")
    out = capsys.readouterr().out
    assert f"Created workload {WORKLOAD_ID} (Checkout)." in out
    assert "Answered 57 questions." in out and "Milestone 1 recorded." in out


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("vic", "cannot push this review"),
        ("otto", "sees no review session"),
        ("nobody", "No single user"),
    ],
)
def test_the_command_checks_who_runs_it_like_the_ui(answered, cast, who, message):
    with pytest.raises(CommandError, match=message):
        call_command("push_to_aws", str(answered.uuid), "--user", who, "--dry-run")


def test_a_participant_who_does_not_manage_cannot_push(answered, cast):
    Participant.objects.create(session=answered, user=cast.member, role=ParticipantRole.OPERATIONS)
    with pytest.raises(CommandError, match="cannot push this review"):
        call_command("push_to_aws", str(answered.uuid), "--user", "bob", "--dry-run")
