"""A lens library per team: built-in lenses are global and read-only; a team's upload is in
its own library, unseen (404) by other teams; admins and members import, finance and viewers
do not; a new review offers the built-in lenses and the team's own only; the migration moves
earlier uploads to their team when it can be told."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from questionnaires.models import BUILTIN_LIBRARY, SHARED_LIBRARY, Lens
from questionnaires.services import lens_export, lens_import
from reviews import sessions
from reviews.errors import ServiceError
from reviews.lenslibrary import team_library
from reviews.models import Membership, ReviewSession, Team
from tests.questionnaires.test_lensfile import lens, raw
from tests.reviews.test_sessions import create_data

FRAMEWORK = "Well-Architected Framework"


def upload(content: bytes, **extra):
    return {"file": SimpleUploadedFile("lens.json", content, "application/json"), **extra}


@pytest.fixture
def theirs(cast):
    """A lens of the other team (the outsider's)."""
    return lens_import(
        raw=raw(lens(name="Bravo secrets")), library=team_library(cast.other_team)
    ).lens


@pytest.mark.parametrize("role", ["admin", "member"])
def test_admins_and_members_import_into_their_team_library(client, cast, role, lenses):
    client.force_login(getattr(cast, role))
    response = client.post(reverse("questionnaires:lens_list"), upload(raw(lens())))
    stored = Lens.objects.get(name="Test lens")
    assert response.status_code == 302
    assert (stored.library, stored.is_builtin) == (str(cast.team.uuid), False)


@pytest.mark.parametrize("role", ["finance", "viewer"])
def test_finance_and_viewers_are_refused_and_nothing_is_saved(client, cast, role, lenses):
    client.force_login(getattr(cast, role))
    before = Lens.objects.count()
    for name in ("questionnaires:lens_list", "questionnaires:lens_check"):
        assert client.post(reverse(name), upload(raw(lens()))).status_code == 403
    # naming their team explicitly changes nothing
    named = upload(raw(lens()), team=str(cast.team.uuid))
    assert client.post(reverse("questionnaires:lens_list"), named).status_code == 403
    assert Lens.objects.count() == before


def test_a_name_clashing_with_a_builtin_makes_a_team_lens(client, cast, lenses):
    client.force_login(cast.member)
    framework = lenses[FRAMEWORK]
    changed = lens_export(framework).replace('"title": "', '"title": "Ours: ', 1)
    client.post(reverse("questionnaires:lens_list"), upload(changed.encode()))
    ours = Lens.objects.get(name=FRAMEWORK, library=team_library(cast.team))
    assert (ours.version, ours.is_builtin, ours.is_framework) == (1, False, False)
    assert Lens.objects.filter(library=BUILTIN_LIBRARY, name=FRAMEWORK).count() == 1
    # and a new review of any team still gets the built-in framework lens
    session = sessions.session_create(
        workload=cast.workload,
        user=cast.member,
        title="x",
        kind="periodic",
        review_starts_at=framework.created_at,
    )
    assert list(session.lenses.all()) == [framework]


def test_another_teams_lens_is_404_and_not_listed(client, cast, lenses, theirs):
    client.force_login(cast.member)
    for name in ("questionnaires:lens_detail", "questionnaires:lens_export"):
        assert client.get(reverse(name, args=[theirs.uuid])).status_code == 404
    body = client.get(reverse("questionnaires:lens_list")).content.decode()
    assert "Bravo secrets" not in body and "SaaS Lens" in body
    client.force_login(cast.outsider)
    assert client.get(reverse("questionnaires:lens_detail", args=[theirs.uuid])).status_code == 200
    assert "Bravo secrets" in client.get(reverse("questionnaires:lens_list")).content.decode()


def test_a_lens_of_the_users_team_and_the_builtins_are_seen(client, cast, lenses):
    mine = lens_import(raw=raw(lens()), library=team_library(cast.team)).lens
    client.force_login(cast.viewer)
    body = client.get(reverse("questionnaires:lens_detail", args=[mine.uuid])).content.decode()
    assert '<span class="badge">Alpha</span>' in body
    saas = lenses["SaaS Lens"]
    assert client.get(reverse("questionnaires:lens_export", args=[saas.uuid])).status_code == 200


def test_importing_for_another_team_needs_a_role_there(client, cast, lenses):
    client.force_login(cast.member)
    for name in ("questionnaires:lens_list", "questionnaires:lens_check"):
        other = upload(raw(lens()), team=str(cast.other_team.uuid))
        assert client.post(reverse(name), other).status_code == 404
    assert not Lens.objects.filter(library=team_library(cast.other_team)).exists()


def test_someone_in_two_teams_chooses_the_team(client, cast, lenses):
    Membership.objects.create(team=cast.other_team, user=cast.member, role="member")
    client.force_login(cast.member)
    page = client.get(reverse("questionnaires:lens_list")).content.decode()
    assert '<select name="team"' in page
    response = client.post(reverse("questionnaires:lens_list"), upload(raw(lens())))
    assert response.status_code == 400
    assert response.context["form"].errors["team"] == [
        "Choose the team whose library gets the lens."
    ]
    named = upload(raw(lens()), team=str(cast.other_team.uuid))
    assert client.post(reverse("questionnaires:lens_list"), named).status_code == 302
    assert Lens.objects.get(name="Test lens").library == team_library(cast.other_team)


def test_versions_count_per_team(client, cast, lenses):
    Membership.objects.create(team=cast.other_team, user=cast.member, role="member")
    client.force_login(cast.member)
    for team, description in ((cast.team, ""), (cast.team, "second"), (cast.other_team, "")):
        lens_upload = upload(raw(lens(description=description)), team=str(team.uuid))
        client.post(reverse("questionnaires:lens_list"), lens_upload)
    rows = Lens.objects.filter(name="Test lens").values_list("library", "version")
    assert sorted(rows) == sorted(
        [
            (team_library(cast.team), 1),
            (team_library(cast.team), 2),
            (team_library(cast.other_team), 1),
        ]
    )


def test_a_new_review_offers_the_builtins_and_the_teams_lenses_only(client, cast, lenses, theirs):
    mine = lens_import(raw=raw(lens(name="Alpha platform")), library=team_library(cast.team)).lens
    legacy = lens_import(raw=raw(lens(name="Legacy upload"))).lens
    assert legacy.library == SHARED_LIBRARY
    client.force_login(cast.member)
    url = reverse("reviews:session_create", args=[cast.workload.uuid])
    form = client.get(url).context["form"]
    offered = {lens.name for lens in form.fields["lenses"].queryset}
    assert offered == {"Serverless Lens", "SaaS Lens", "Alpha platform"}
    response = client.post(url, create_data(lenses=[theirs.pk]))
    assert "Select a valid choice" in response.content.decode()
    assert not ReviewSession.objects.exists()
    client.post(url, create_data(lenses=[mine.pk]))
    assert [lens.name for lens in ReviewSession.objects.get().lenses.order_by("name")] == [
        "Alpha platform",
        FRAMEWORK,
    ]


def test_the_service_refuses_another_teams_lens(cast, lenses, theirs):
    with pytest.raises(ServiceError, match="is not in this team's lens library"):
        sessions.session_create(
            workload=cast.workload,
            user=cast.member,
            title="x",
            kind="periodic",
            review_starts_at=theirs.created_at,
            lenses=[theirs],
        )
    assert not ReviewSession.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_uploads_to_their_team_when_it_can_be_told():
    """One team's upload (its importer in that team only, used only there) moves to the
    team; an upload by someone in two teams, and one without an importer, stay shared."""
    from django.contrib.auth import get_user_model

    Lens.objects.all().delete()  # the flush after this test puts the built-in lenses back
    executor = MigrationExecutor(connection)
    before = [
        ("reviews", "0006_team_invitations_audit_verified_email"),
        ("questionnaires", "0004_lens_library_checks"),
    ]
    executor.migrate(before)
    state = executor.loader.project_state(before).apps
    OldLens = state.get_model("questionnaires", "Lens")
    OldTeam = state.get_model("reviews", "Team")
    OldMembership = state.get_model("reviews", "Membership")
    users = get_user_model().objects
    alice, bob = users.create(username="alice"), users.create(username="bob")
    alpha, bravo = OldTeam.objects.create(name="Alpha"), OldTeam.objects.create(name="Bravo")
    OldMembership.objects.create(team=alpha, user_id=alice.pk, role="admin")
    OldMembership.objects.create(team=alpha, user_id=bob.pk, role="member")
    OldMembership.objects.create(team=bravo, user_id=bob.pk, role="member")
    for version in (1, 2):
        OldLens.objects.create(
            library="shared", name="Alice's", version=version, imported_by_id=alice.pk
        )
    OldLens.objects.create(library="shared", name="Bob's", version=1, imported_by_id=bob.pk)
    OldLens.objects.create(library="shared", name="Nobody's", version=1)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    rows = Lens.objects.order_by("name", "version").values_list("name", "version", "library")
    alpha_library = str(Team.objects.get(name="Alpha").uuid)
    assert list(rows) == [
        ("Alice's", 1, alpha_library),
        ("Alice's", 2, alpha_library),
        ("Bob's", 1, SHARED_LIBRARY),
        ("Nobody's", 1, SHARED_LIBRARY),
    ]


def test_an_import_is_in_the_team_audit_log_and_a_refused_one_is_not(client, cast, lenses):
    from reviews.models import AuditEntry

    client.force_login(cast.member)
    client.post(reverse("questionnaires:lens_list"), upload(raw(lens())))
    entry = AuditEntry.objects.get(team=cast.team, action="lens_imported")
    assert entry.actor == cast.member and "Test lens" in entry.subject
    assert entry.details["version"] == 1
    # The same content again imports nothing, and records nothing.
    client.post(reverse("questionnaires:lens_list"), upload(raw(lens())))
    client.post(reverse("questionnaires:lens_list"), upload(b"{not json"))
    assert AuditEntry.objects.filter(action="lens_imported").count() == 1
