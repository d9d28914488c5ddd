"""A session invitation to someone outside the team makes a guest of that one session: they
see its pages (live, analysis, plan, PDF) and nothing else of the team, and accepting never
makes them a member. Only a team admin adds people to the team."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from reviews import invitations, sessions
from reviews.errors import ServiceError
from reviews.models import Membership, Participant, ParticipantRole, Phase
from tests.conftest import HTMX, make_user

HIGH0 = "ops_priorities_ext_cust_needs"


def link_for(invitation) -> str:
    return reverse("reviews:invitation_accept", args=[invitations.invitation_token(invitation)])


def accept_as_new_user(
    client, review, inviter, *, email="sec.lead@customer.example", role="security"
):
    invitation = invitations.invitation_create(session=review, user=inviter, email=email, role=role)
    response = client.post(
        link_for(invitation),
        {
            "username": "seclead",
            "first_name": "Sec",
            "last_name": "Lead",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
        },
    )
    assert response.status_code == 302
    return get_user_model().objects.get(username="seclead")


@pytest.fixture
def guest(client, cast, review):
    return accept_as_new_user(client, review, cast.admin)


@pytest.fixture
def other_review(cast, lenses):
    return sessions.session_create(
        workload=cast.workload,
        user=cast.admin,
        title="Another review",
        kind="periodic",
        review_starts_at=timezone.now(),
    )


def test_accepting_makes_a_guest_never_a_member(guest, cast, review):
    participant = Participant.objects.get(session=review, user=guest)
    assert participant.is_guest and participant.role == ParticipantRole.SECURITY
    assert not Membership.objects.filter(user=guest).exists()


def test_an_existing_account_outside_the_team_also_joins_as_a_guest(client, cast, review):
    invitation = invitations.invitation_create(
        session=review, user=cast.admin, email=cast.outsider.email, role="facilitator"
    )
    client.force_login(cast.outsider)
    assert client.post(link_for(invitation)).status_code == 302
    assert Participant.objects.get(session=review, user=cast.outsider).is_guest
    assert not Membership.objects.filter(user=cast.outsider, team=cast.team).exists()
    assert (
        client.get(reverse("reviews:workload_detail", args=[cast.workload.uuid])).status_code == 404
    )


def test_a_member_of_the_team_is_added_not_invited(cast, review):
    with pytest.raises(ServiceError, match="add them under Participants"):
        invitations.invitation_create(
            session=review, user=cast.admin, email=cast.member.email, role="operations"
        )
    assert not review.invitations.exists()


def test_someone_invited_who_joined_the_team_meanwhile_joins_as_a_member(client, cast, review):
    invitation = invitations.invitation_create(
        session=review, user=cast.admin, email=cast.outsider.email, role="operations"
    )
    Membership.objects.create(team=cast.team, user=cast.outsider, role=Membership.Role.MEMBER)
    client.force_login(cast.outsider)
    client.post(link_for(invitation))
    assert not Participant.objects.get(session=review, user=cast.outsider).is_guest


def test_a_guest_sees_the_session_pages(client, guest, review, answer):
    client.force_login(guest)
    assert client.get(reverse("reviews:session_detail", args=[review.uuid])).status_code == 200
    live = client.get(reverse("reviews:session_live", args=[review.uuid]))
    assert live.status_code == 302
    assert client.get(live["Location"]).status_code == 200
    for name in ("actions:analysis", "actions:plan", "actions:plan_documents"):
        assert client.get(reverse(name, args=[review.uuid])).status_code == 200, name


def test_a_guest_sees_nothing_else_of_the_team(client, guest, cast, review, other_review):
    client.force_login(guest)
    assert (
        client.get(reverse("reviews:session_detail", args=[other_review.uuid])).status_code == 404
    )
    assert client.get(reverse("actions:analysis", args=[other_review.uuid])).status_code == 404
    assert (
        client.get(reverse("reviews:workload_detail", args=[cast.workload.uuid])).status_code == 404
    )
    assert client.get(reverse("reviews:team_detail", args=[cast.team.uuid])).status_code == 404
    workload_url = reverse("reviews:workload_detail", args=[cast.workload.uuid])
    for name in ("reviews:workload_list", "actions:dashboard", "actions:my_actions"):
        response = client.get(reverse(name))
        assert response.status_code in (200, 404), name
        assert workload_url not in response.content.decode(), name
    # The session's own page does not link into the team's pages.
    for name in ("reviews:session_detail", "actions:analysis", "actions:plan"):
        page = client.get(reverse(name, args=[review.uuid])).content.decode()
        assert workload_url not in page, name
        assert reverse("actions:action_create", args=[review.uuid]) not in page, name
    assert client.get(reverse("actions:action_create", args=[review.uuid])).status_code == 404


def test_a_guest_answers_by_their_session_role(client, guest, review, answer):
    client.force_login(guest)
    url = reverse("reviews:choice_toggle", args=[review.uuid, answer.question.uuid, HIGH0])
    assert client.post(url, {"select": "1"}, **HTMX).status_code == 204
    assert answer.selections.filter(choice__ident=HIGH0).exists()


def test_a_guest_does_not_invite_unless_facilitating(client, guest, review):
    client.force_login(guest)
    response = client.post(
        reverse("reviews:invitation_create", args=[review.uuid]),
        {"email": "friend@customer.example", "role": "observer"},
    )
    assert response.status_code == 403
    assert not review.invitations.filter(email="friend@customer.example").exists()


def test_a_facilitator_who_is_a_team_member_brings_in_a_guest(client, cast, review):
    """Issue 10, point 2: a member facilitating invites an outsider; the outsider becomes a
    guest of that review only, never a member seeing every workload."""
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.FACILITATOR)
    newcomer = accept_as_new_user(client, review, cast.member, role="facilitator")
    assert not Membership.objects.filter(user=newcomer).exists()
    page = client.get(reverse("reviews:workload_list"))
    assert page.status_code == 200
    assert (
        reverse("reviews:workload_detail", args=[cast.workload.uuid]) not in page.content.decode()
    )


def test_a_viewer_made_facilitator_cannot_invite(client, cast, review):
    Participant.objects.create(session=review, user=cast.viewer, role=ParticipantRole.FACILITATOR)
    client.force_login(cast.viewer)
    response = client.post(
        reverse("reviews:invitation_create", args=[review.uuid]),
        {"email": "outsider@example.com", "role": "facilitator"},
    )
    assert response.status_code == 403
    assert not review.invitations.exists()


def test_a_removed_member_does_not_become_a_guest(client, cast, review):
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.OPERATIONS)
    Membership.objects.filter(user=cast.member, team=cast.team).delete()
    client.force_login(cast.member)
    assert client.get(reverse("reviews:session_detail", args=[review.uuid])).status_code == 404
    assert client.get(reverse("reviews:session_live", args=[review.uuid])).status_code == 404


def test_a_guest_in_a_later_phase_reads_only(client, guest, cast, review, answer):
    sessions.session_move(session=review, user=cast.admin, to_phase=Phase.REVIEW)
    sessions.session_move(session=review, user=cast.admin, to_phase=Phase.ANALYSIS)
    client.force_login(guest)
    url = reverse("reviews:choice_toggle", args=[review.uuid, answer.question.uuid, HIGH0])
    assert client.post(url, {"select": "1"}, **HTMX).status_code == 409
    assert client.get(reverse("actions:analysis", args=[review.uuid])).status_code == 200


def test_an_outsider_still_gets_404_on_the_session(client, cast, review):
    make_user("nobody")
    client.force_login(cast.outsider)
    assert client.get(reverse("reviews:session_detail", args=[review.uuid])).status_code == 404
