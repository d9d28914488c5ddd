"""Whole-workload export and import: the round trip into an empty instance, into another
team, lenses matched by name and content, people by email."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection

from actions.models import ActionItem
from actions.transfer.export import workload_export
from actions.transfer.importer import workload_import
from actions.transfer.reading import TransferRefused
from questionnaires.models import Lens
from reviews.models import Invitation, Membership, Team, Workload
from tests.actions.transfer_helpers import full_workload
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def normalised(document: dict[str, Any]) -> dict[str, Any]:
    """The document without what differs between two exports of the same workload."""
    document = copy.deepcopy(document)
    document.pop("exportedAt")
    return document


def empty_instance() -> None:
    """Everything the workload was, gone: its rows and its custom lens (accounts and teams
    stay, as on an instance the people already use)."""
    Workload.objects.all().delete()
    Lens.objects.filter(is_builtin=False).delete()


def test_export_then_import_into_an_empty_instance_gives_the_same_workload(cast, lenses):
    full_workload(cast)
    before = workload_export(cast.workload)
    empty_instance()

    report = workload_import(team=cast.team, user=cast.admin, document=before)

    after = workload_export(Workload.objects.get(team=cast.team, name="Checkout"))
    assert normalised(after) == normalised(before)
    assert report.sessions == 1 and report.actions == 2
    assert report.lenses_imported == ["Data platform v1"]
    # newcomer@example.com was invited and has no account: invited again.
    assert report.invitations == ["newcomer@example.com (Checkout review)"]


# Flushing empties every table with its own transaction: the test runs outside one.
@pytest.mark.django_db(transaction=True)
def test_a_flushed_database_gets_the_workload_back(cast, lenses):
    """A fresh database: every table emptied (the built-in lenses loaded again), then the
    people sign up and make their team again before the import."""
    full_workload(cast)
    before = workload_export(cast.workload)
    call_command("flush", interactive=False, verbosity=0)
    # The built-in lenses come back with their ids; the sequences must count on from them.
    models = apps.get_app_config("questionnaires").get_models()
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)
    assert not Workload.objects.exists() and not Lens.objects.filter(is_builtin=False).exists()
    team = Team.objects.create(name="Alpha again")
    for username, role in (("alice", "admin"), ("bob", "member"), ("fay", "finance")):
        Membership.objects.create(team=team, user=make_user(username), role=role)

    report = workload_import(team=team, user=Membership.objects.first().user, document=before)

    assert normalised(workload_export(report.workload)) == normalised(before)


def test_the_export_holds_everything_said(cast, lenses):
    full_workload(cast)
    document = workload_export(cast.workload)
    assert document["format"] == "pillarwise-workload" and document["schemaVersion"] == 1
    (session,) = document["sessions"]
    lens_entries = {entry["name"]: entry for entry in document["lenses"]}
    assert "file" not in lens_entries["Well-Architected Framework"]
    assert lens_entries["Data platform"]["file"]["pillars"][0]["id"] == "dataops"
    emails = {p["email"]: p["role"] for p in session["participants"]}
    assert emails == {
        "alice@example.com": "facilitator",
        "bob@example.com": "workload_owner",
        "fay@example.com": "finance",
    }
    priorities = next(a for a in session["answers"] if a["question"] == "priorities")
    assert priorities["choicesNotApplicable"][0]["reason"] == "out_of_scope"
    assert priorities["notes"] == "Agreed, with caveats."
    assert {h["action"] for h in priorities["history"]} == {"choice_na", "notes"}
    assert any(a["notApplicable"] for a in session["answers"])
    ratings = {f["question"]: len(f["ratings"]) for f in session["findings"]}
    assert ratings["manage-service-limits"] == 2 and ratings["backfills"] == 1
    accepted = next(f for f in session["findings"] if f["question"] == "identities")
    assert accepted["acceptedReason"] == "Covered by the SSO project."
    raise_quotas = next(a for a in document["actions"] if a["title"] == "Raise the service quotas")
    assert raise_quotas["comments"][0]["body"] == "Ticket opened with support."
    assert {h["field"] for h in raise_quotas["history"]} >= {"status", "percent_complete"}
    assert raise_quotas["monthlySaving"] == "120.50"
    assert document["milestones"][0]["name"] == "Baseline"


def test_importing_beside_the_original_reuses_the_lenses_and_gives_new_ids(cast, lenses):
    review = full_workload(cast)
    document = workload_export(cast.workload)
    document["workload"]["name"] = "Checkout copy"

    report = workload_import(team=cast.team, user=cast.admin, document=document)

    copy_ = report.workload
    assert report.lenses_imported == []
    assert "Data platform v1" in report.lenses_reused
    assert Lens.objects.filter(name="Data platform").count() == 1
    assert copy_.sessions.get().uuid != review.uuid
    assert ActionItem.objects.filter(workload=copy_).count() == 2


def test_a_changed_custom_lens_is_imported_into_the_team(cast, lenses):
    full_workload(cast)
    document = workload_export(cast.workload)
    document["workload"]["name"] = "Checkout copy"
    entry = next(e for e in document["lenses"] if not e["builtin"])
    entry["file"]["description"] = "Changed since."

    report = workload_import(team=cast.team, user=cast.admin, document=document)

    # The team had version 1 (the original): the changed file becomes its version 2.
    lens = Lens.objects.get(name="Data platform", library=str(cast.team.uuid), version=2)
    assert report.lenses_imported == [str(lens)]
    assert lens.sessions.get().workload == report.workload


def test_people_outside_the_team_are_invited_and_own_nothing(cast, lenses):
    full_workload(cast)
    document = workload_export(cast.workload)

    report = workload_import(team=cast.other_team, user=cast.outsider, document=document)

    session = report.workload.sessions.get()
    assert not session.participants.exists()
    invited = set(Invitation.objects.filter(session=session).values_list("email", "role"))
    assert invited == {
        ("alice@example.com", "facilitator"),
        ("bob@example.com", "workload_owner"),
        ("fay@example.com", "finance"),
        ("newcomer@example.com", "security"),
    }
    assert all(i.sent_at is None for i in Invitation.objects.filter(session=session))
    assert report.workload.owner is None
    assert set(
        ActionItem.objects.filter(workload=report.workload).values_list("owner", flat=True)
    ) == {None}
    # History keeps who did it: the accounts exist here.
    action = ActionItem.objects.get(workload=report.workload, title="Raise the service quotas")
    assert action.comments.get().author == cast.member
    assert any("newcomer@example.com" in w for w in report.warnings)


def test_no_account_is_ever_created(cast, lenses, django_user_model):
    full_workload(cast)
    document = workload_export(cast.workload)
    empty_instance()
    django_user_model.objects.filter(username="bob").delete()
    accounts = django_user_model.objects.count()

    report = workload_import(team=cast.team, user=cast.admin, document=document)

    assert django_user_model.objects.count() == accounts
    assert "bob@example.com (Checkout review)" in report.invitations
    action = ActionItem.objects.get(title="Raise the service quotas")
    assert action.owner is None and action.comments.get().author is None


def test_a_second_import_under_the_same_name_is_refused_with_nothing_saved(cast, lenses):
    full_workload(cast)
    document = workload_export(cast.workload)
    workloads = Workload.objects.count()

    with pytest.raises(TransferRefused) as refused:
        workload_import(team=cast.team, user=cast.admin, document=document)

    assert refused.value.errors == [
        "workload.name: the team Alpha has a workload named “Checkout” already: rename or "
        "delete it first"
    ]
    assert Workload.objects.count() == workloads


def test_a_bad_value_deep_inside_names_its_place_and_saves_nothing(cast, lenses):
    full_workload(cast)
    document = workload_export(cast.workload)
    empty_instance()
    document["sessions"][0]["answers"][3]["risk"] = "TERRIBLE"
    document["actions"][1]["dueOn"] = "next week"
    document["milestones"][0]["createdAt"] = "0001-01-01T00:00:00+14:00"
    lenses_before = Lens.objects.count()

    with pytest.raises(TransferRefused) as refused:
        workload_import(team=cast.team, user=cast.admin, document=document)

    assert refused.value.errors[0].startswith(
        "sessions[0].answers[3].risk: 'TERRIBLE' is not one of"
    )
    assert (
        "actions[1].dueOn: “next week” is not an ISO 8601 date (YYYY-MM-DD)" in refused.value.errors
    )
    assert (
        "milestones[0].createdAt: “0001-01-01T00:00:00+14:00” is out of range"
        in refused.value.errors
    )
    assert not Workload.objects.exists()
    assert Lens.objects.count() == lenses_before
    assert Team.objects.count() == 2
