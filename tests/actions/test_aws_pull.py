"""Importing from the AWS Well-Architected Tool, against botocore's Stubber: a fully answered
framework review read page by page (with every answer's notes) and imported into a team,
giving back what was pushed; a document with unknown lenses, questions and choices; a
malformed document that writes nothing; the command and who may run it."""

from __future__ import annotations

import copy

import pytest
from django.core.management import CommandError, call_command

from actions.aws.export import CUT_MARKER, plan_build
from actions.aws.importer import ImportRefused, aws_import
from actions.aws.pull import aws_fetch
from reviews.models import (
    Answer,
    AnswerChange,
    ChoiceNotApplicable,
    Milestone,
    ReviewSession,
    Workload,
    WorkloadType,
)
from tests.actions.aws_helpers import (
    WORKLOAD_ARN,
    WORKLOAD_ID,
    questions,
    stub_pages,
    stubbed_client,
    summary,
)
from tests.actions.test_aws_push import answered  # noqa: F401 (a fixture)

FRAMEWORK_ARN = "arn:aws:wellarchitected::aws:lens/wellarchitected"


def aws_answers(plan, session, lens):
    """What AWS holds after the push: (summary, detail) per question of the lens."""
    calls = {call.question_id: call.params for call in plan.answers}
    risks = dict(session.answers.values_list("question__ident", "risk"))
    result = []
    for question in questions(lens):
        params = calls.get(question.ident)
        if params is None:
            result.append((summary(question), {**summary(question), "Notes": ""}))
            continue
        selected = params["SelectedChoices"]
        updates = params.get("ChoiceUpdates", {})
        statuses = [{"ChoiceId": c, "Status": "SELECTED"} for c in selected] + [
            {"ChoiceId": c, "Status": "NOT_APPLICABLE", "Reason": u["Reason"]}
            for c, u in updates.items()
        ]
        extra = {"Reason": params["Reason"]} if "Reason" in params else {}
        listed = summary(
            question,
            SelectedChoices=selected,
            ChoiceAnswerSummaries=statuses,
            IsApplicable=params["IsApplicable"],
            Risk=risks[question.ident],
            **extra,
        )
        detail = {k: v for k, v in listed.items() if k != "ChoiceAnswerSummaries"}
        detail["Notes"] = params["Notes"]
        detail["ChoiceAnswers"] = [
            {
                **s,
                **(
                    {"Notes": updates[s["ChoiceId"]]["Notes"]}
                    if "Notes" in updates.get(s["ChoiceId"], {})
                    else {}
                ),
            }
            for s in statuses
        ]
        result.append((listed, detail))
    return result


def workload_there(plan):
    params = plan.create_workload.params
    return {
        "WorkloadId": WORKLOAD_ID,
        "WorkloadArn": WORKLOAD_ARN,
        "WorkloadName": params["WorkloadName"],
        "Description": params["Description"],
        "Environment": params["Environment"],
        "AwsRegions": params["AwsRegions"],
        "NonAwsRegions": params["NonAwsRegions"],
        "ArchitecturalDesign": params["ArchitecturalDesign"],
        "ReviewOwner": params["ReviewOwner"],
        "PillarPriorities": params["PillarPriorities"],
        "Lenses": ["wellarchitected"],
    }


def queue_pull(stub, workload, answers):
    stub.add_response("get_workload", {"Workload": workload}, {"WorkloadId": WORKLOAD_ID})
    stub_pages(
        stub,
        "list_lens_reviews",
        "LensReviewSummaries",
        [
            {
                "LensAlias": "wellarchitected",
                "LensArn": FRAMEWORK_ARN,
                "LensName": "AWS Well-Architected Framework",
            }
        ],
        {"WorkloadId": WORKLOAD_ID},
        size=50,
        extra={"WorkloadId": WORKLOAD_ID},
    )
    summaries = [listed for listed, _ in answers]
    lens = {"WorkloadId": WORKLOAD_ID, "LensAlias": "wellarchitected", "LensArn": FRAMEWORK_ARN}
    # Two pages of 50 and 7, then the notes of every question (GetAnswer).
    for n, start in enumerate((0, 50)):
        page = {**lens, "AnswerSummaries": summaries[start : start + 50]}
        params = {"WorkloadId": WORKLOAD_ID, "LensAlias": "wellarchitected", "MaxResults": 50}
        if n == 0:
            page["NextToken"] = "page2"
        else:
            params["NextToken"] = "page2"
        stub.add_response("list_answers", page, params)
    for _, detail in answers:
        stub.add_response(
            "get_answer",
            {**lens, "Answer": detail},
            {
                "WorkloadId": WORKLOAD_ID,
                "LensAlias": "wellarchitected",
                "QuestionId": detail["QuestionId"],
            },
        )
    stub_pages(
        stub,
        "list_milestones",
        "MilestoneSummaries",
        [{"MilestoneNumber": 1, "MilestoneName": "Checkout review · 2026-11-30"}],
        {"WorkloadId": WORKLOAD_ID},
        size=50,
        extra={"WorkloadId": WORKLOAD_ID},
    )


@pytest.fixture
def fetched(answered, cast, lenses):  # noqa: F811
    """The pushed review as read back from AWS, page by page."""
    plan = plan_build(session=answered)
    answers = aws_answers(plan, answered, lenses["Well-Architected Framework"])
    client, stub = stubbed_client()
    queue_pull(stub, workload_there(plan), answers)
    with stub:
        document = aws_fetch(client=client, workload_id=WORKLOAD_ID)
    stub.assert_no_pending_responses()
    return document


def state(session):
    """Every answer of a session, comparable across sessions."""
    result = {}
    for answer in Answer.objects.filter(session=session).select_related("question"):
        result[answer.question.ident] = {
            "risk": answer.risk,
            "selected": set(answer.selections.values_list("choice__ident", flat=True)),
            "not_applicable": (answer.not_applicable, answer.not_applicable_reason),
            "marks": set(
                ChoiceNotApplicable.objects.filter(answer=answer).values_list(
                    "choice__ident", "reason", "notes"
                )
            ),
            "notes": answer.notes,
        }
    return result


def test_the_document_has_every_command_output(fetched):
    assert set(fetched) == {
        "get-workload",
        "list-lens-reviews",
        "list-answers",
        "get-answer",
        "list-milestones",
    }
    assert len(fetched["list-answers"]) == 2 and len(fetched["get-answer"]) == 57
    assert "ResponseMetadata" not in fetched["get-workload"]


def test_a_pushed_review_comes_back_whole_into_another_team(answered, fetched, cast):  # noqa: F811
    report = aws_import(team=cast.other_team, user=cast.outsider, document=fetched)
    assert report.workload_created and report.unknown == []
    workload = report.workload
    assert (workload.team, workload.name) == (cast.other_team, "Checkout")
    assert workload.workload_type == WorkloadType.CRITICAL_ECOMMERCE
    assert workload.environment == "production"
    assert workload.regions == ["eu-west-1", "us-east-1", "On premises (Paris)"]
    assert workload.architecture_url == "https://wiki.example.com/checkout"
    assert workload.owner == cast.outsider  # the review owner is not in that team

    before, after = state(answered), state(report.session)
    cut = after.pop("priorities")
    original = before.pop("priorities")
    assert after == before
    assert cut["notes"].endswith(CUT_MARKER) and cut["notes"] != original["notes"]
    assert {k: v for k, v in cut.items() if k != "notes"} == {
        k: v for k, v in original.items() if k != "notes"
    }
    assert cut["marks"] == {
        ("ops_priorities_compliance_reqs", "business_priorities", "No regulator for this one"),
        ("ops_priorities_eval_tradeoffs", "other", ""),
    }
    assert report.answers == 57 and report.not_applicable_choices == 2

    session = report.session
    assert session.phase == "review"
    assert AnswerChange.objects.filter(answer__session=session, action="imported").count() == 57
    milestone = report.milestone
    assert milestone.kind == Milestone.Kind.IMPORTED and milestone.session == session
    assert milestone.snapshot["aws"]["workload_id"] == WORKLOAD_ID
    assert milestone.snapshot["aws"]["milestones"][0]["name"] == "Checkout review · 2026-11-30"


def test_importing_into_the_same_team_updates_the_workload(answered, fetched, cast):  # noqa: F811
    fetched["get-workload"]["Workload"]["Description"] = "Takes the money"
    report = aws_import(team=cast.team, user=cast.member, document=fetched)
    assert not report.workload_created and report.workload == cast.workload
    cast.workload.refresh_from_db()
    assert cast.workload.description == "Takes the money"
    assert cast.workload.owner == cast.member  # bob@example.com, the review owner
    assert cast.workload.sessions.count() == 2


def test_unknown_lenses_questions_and_choices_are_reported_with_their_place(fetched, cast):
    document = copy.deepcopy(fetched)
    first = document["list-answers"][0]["AnswerSummaries"][0]
    first["SelectedChoices"] = [*first["SelectedChoices"], "ops_priorities_made_up"]
    document["get-answer"] = [
        d for d in document["get-answer"] if d["Answer"]["QuestionId"] != first["QuestionId"]
    ]
    renamed = document["list-answers"][1]["AnswerSummaries"][0]
    for detail in document["get-answer"]:
        if detail["Answer"]["QuestionId"] == renamed["QuestionId"]:
            detail["Answer"]["QuestionId"] = "no-such-question"
    renamed["QuestionId"] = "no-such-question"
    document["list-answers"].append(
        {
            "LensAlias": "arn:aws:wellarchitected:us-east-1:123456789012:lens/abc",
            "AnswerSummaries": [{"QuestionId": "custom_q", "Risk": "HIGH"}],
        }
    )
    report = aws_import(team=cast.other_team, user=cast.outsider, document=document)
    unknown = "\n".join(report.unknown)
    assert (
        "list-answers[0].AnswerSummaries[0] (question “priorities”): choice "
        "“ops_priorities_made_up” is not a choice here" in unknown
    )
    assert "list-answers[1].AnswerSummaries[0]: question “no-such-question”" in unknown
    assert "lens/abc): no lens of that name here; its 1 answers were not imported" in unknown
    assert report.answers == 56  # the rest is imported


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("get-workload"), "get-workload: missing"),
        (
            lambda d: d["get-workload"]["Workload"].pop("WorkloadName"),
            "Workload.WorkloadName: missing",
        ),
        (lambda d: d.pop("list-answers"), "list-answers: missing"),
        (
            lambda d: d["list-answers"][0]["AnswerSummaries"][3].update(Risk="SEVERE"),
            "list-answers[0].AnswerSummaries[3].Risk: “SEVERE” is not one of",
        ),
        (
            lambda d: d["get-answer"][2]["Answer"].update(Notes=["x"]),
            "get-answer[2].Answer.Notes: expected text",
        ),
        (lambda d: d.update(extra={}), "Unknown keys: extra"),
    ],
)
def test_a_malformed_document_is_refused_and_writes_nothing(fetched, cast, mutate, message):
    document = copy.deepcopy(fetched)
    mutate(document)
    counts = (Workload.objects.count(), ReviewSession.objects.count(), Milestone.objects.count())
    with pytest.raises(ImportRefused) as refused:
        aws_import(team=cast.other_team, user=cast.outsider, document=document)
    assert any(message in error for error in refused.value.errors), refused.value.errors
    assert (Workload.objects.count(), ReviewSession.objects.count(), Milestone.objects.count()) == (
        counts
    )


# --- The command -------------------------------------------------------------------------------


@pytest.fixture
def pull_client(answered, cast, lenses, monkeypatch):  # noqa: F811
    plan = plan_build(session=answered)
    client, stub = stubbed_client()
    queue_pull(
        stub,
        workload_there(plan),
        aws_answers(plan, answered, lenses["Well-Architected Framework"]),
    )
    monkeypatch.setattr(
        "actions.management.commands.pull_from_aws.wellarchitected_client", lambda **kw: client
    )
    return stub


def test_the_command_imports_into_the_team(pull_client, cast, capsys):
    with pull_client:
        call_command(
            "pull_from_aws", WORKLOAD_ID, "--team", str(cast.other_team.uuid), "--user", "otto"
        )
    out = capsys.readouterr().out
    assert f"Created workload “Checkout” in {cast.other_team}." in out
    assert "57 answers, 2 best practices not applicable." in out


@pytest.mark.parametrize(
    ("who", "team", "message"),
    [("vic", "team", "only admins and members can"), ("otto", "team", "is not in a team")],
)
def test_the_command_checks_who_runs_it_like_the_ui(cast, who, team, message):
    with pytest.raises(CommandError, match=message):
        call_command(
            "pull_from_aws", WORKLOAD_ID, "--team", str(getattr(cast, team).uuid), "--user", who
        )


def test_a_question_answered_twice_in_the_file_is_imported_once(fetched, cast):
    document = copy.deepcopy(fetched)
    again = copy.deepcopy(document["list-answers"][0])
    again.pop("LensArn")  # the same lens, named by its alias only
    document["list-answers"].append(again)
    document.pop("get-answer")
    report = aws_import(team=cast.other_team, user=cast.outsider, document=document)
    assert report.answers == 57
    assert "No get-answer outputs: the notes were not imported." in report.warnings
    assert not any("answered twice" in w for w in report.warnings)  # one lens, one answer each
    assert Answer.objects.filter(session=report.session).exclude(notes="").count() == 0


def test_two_lenses_there_mapped_to_one_here_keep_the_first_answer(fetched, cast):
    document = copy.deepcopy(fetched)
    copy_arn = "arn:aws:wellarchitected:us-east-1:123456789012:lens/feedface"
    again = copy.deepcopy(document["list-answers"][0])
    again["LensAlias"] = again["LensArn"] = copy_arn
    document["list-answers"].append(again)
    report = aws_import(
        team=cast.other_team,
        user=cast.outsider,
        document=document,
        lens_arns={"Well-Architected Framework": copy_arn},
    )
    assert report.answers == 57
    twice = [w for w in report.warnings if "answered twice in the file" in w]
    assert len(twice) == 50 and twice[0].startswith("list-answers[2].AnswerSummaries[0]")


def test_lenses_map_onto_the_importing_teams_library_only(cast, lenses):
    from actions.aws.importer import _our_lens
    from questionnaires.services import lens_import
    from tests.questionnaires.test_lensfile import lens, raw

    arn = "arn:aws:wellarchitected:us-east-1:123456789012:lens/abc"
    theirs = lens_import(raw=raw(lens(name="Platform")), library=str(cast.other_team.uuid)).lens
    assert _our_lens(arn, "Platform", {}, cast.team) is None
    assert _our_lens(arn, "Platform", {}, cast.other_team) == theirs
    assert _our_lens(arn, "SaaS Lens", {}, cast.team) == lenses["SaaS Lens"]
