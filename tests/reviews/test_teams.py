"""Team pages: members and roles, managed by team admins."""

from django.urls import reverse

from reviews.models import Membership, Team


def test_create_team_makes_me_admin(client, cast):
    client.force_login(cast.outsider)
    response = client.post(reverse("reviews:team_list"), {"name": "  Charlie  "})
    team = Team.objects.get(name="Charlie")
    assert response.status_code == 302
    assert Membership.objects.get(team=team, user=cast.outsider).role == "admin"


def test_create_team_needs_a_name(client, cast):
    client.force_login(cast.outsider)
    response = client.post(reverse("reviews:team_list"), {"name": ""})
    assert response.status_code == 200 and "name" in response.context["form"].errors


def test_team_page_lists_members(client, cast):
    client.force_login(cast.viewer)
    body = client.get(reverse("reviews:team_detail", args=[cast.team.uuid])).content.decode()
    for name in ("Alice Admin", "Bob Member", "Fay Finance", "Vic Viewer"):
        assert name in body
    assert "Otto" not in body
    assert "Invite someone" not in body and "Audit log" not in body


def test_admin_cannot_add_an_account_without_its_consent(client, cast):
    """Adding by username or email straight into the team is gone: the form invites."""
    client.force_login(cast.admin)
    response = client.post(
        reverse("reviews:team_detail", args=[cast.team.uuid]),
        {"who": "otto", "email": "otto@example.com", "role": "viewer"},
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(team=cast.team, user=cast.outsider).exists()


def test_only_admins_manage_members(client, cast):
    member_row = Membership.objects.get(team=cast.team, user=cast.viewer)
    client.force_login(cast.member)
    assert (
        client.post(
            reverse("reviews:team_detail", args=[cast.team.uuid]),
            {"email": "otto@example.com", "role": "member"},
        ).status_code
        == 403
    )
    assert (
        client.post(
            reverse("reviews:member_role", args=[cast.team.uuid, member_row.pk]), {"role": "admin"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            reverse("reviews:member_remove", args=[cast.team.uuid, member_row.pk])
        ).status_code
        == 403
    )
    member_row.refresh_from_db()
    assert member_row.role == "viewer"


def test_admin_changes_role_and_removes(client, cast):
    client.force_login(cast.admin)
    viewer = Membership.objects.get(team=cast.team, user=cast.viewer)
    client.post(
        reverse("reviews:member_role", args=[cast.team.uuid, viewer.pk]), {"role": "finance"}
    )
    viewer.refresh_from_db()
    assert viewer.role == "finance"
    client.post(reverse("reviews:member_remove", args=[cast.team.uuid, viewer.pk]))
    assert not Membership.objects.filter(pk=viewer.pk).exists()


def test_last_admin_cannot_step_down_or_leave(client, cast):
    client.force_login(cast.admin)
    me = Membership.objects.get(team=cast.team, user=cast.admin)
    response = client.post(
        reverse("reviews:member_role", args=[cast.team.uuid, me.pk]),
        {"role": "member"},
        follow=True,
    )
    assert "A team needs at least one admin" in response.content.decode()
    client.post(reverse("reviews:member_remove", args=[cast.team.uuid, me.pk]))
    me.refresh_from_db()
    assert me.role == "admin"


def test_invalid_role_is_refused(client, cast):
    client.force_login(cast.admin)
    viewer = Membership.objects.get(team=cast.team, user=cast.viewer)
    response = client.post(
        reverse("reviews:member_role", args=[cast.team.uuid, viewer.pk]),
        {"role": "owner"},
        follow=True,
    )
    assert "Choose one of the listed roles" in response.content.decode()


def test_outsider_gets_404(client, cast):
    client.force_login(cast.outsider)
    viewer = Membership.objects.get(team=cast.team, user=cast.viewer)
    assert client.get(reverse("reviews:team_detail", args=[cast.team.uuid])).status_code == 404
    assert (
        client.post(
            reverse("reviews:member_role", args=[cast.team.uuid, viewer.pk]), {"role": "admin"}
        ).status_code
        == 404
    )
    assert (
        client.post(reverse("reviews:member_remove", args=[cast.team.uuid, viewer.pk])).status_code
        == 404
    )


def test_member_of_another_team_is_not_reachable_through_mine(client, cast):
    client.force_login(cast.admin)
    foreign = Membership.objects.get(team=cast.other_team, user=cast.outsider)
    assert (
        client.post(reverse("reviews:member_remove", args=[cast.team.uuid, foreign.pk])).status_code
        == 404
    )


def test_wrong_method(client, cast):
    client.force_login(cast.admin)
    viewer = Membership.objects.get(team=cast.team, user=cast.viewer)
    assert (
        client.get(reverse("reviews:member_role", args=[cast.team.uuid, viewer.pk])).status_code
        == 405
    )
    assert (
        client.get(reverse("reviews:member_remove", args=[cast.team.uuid, viewer.pk])).status_code
        == 405
    )
