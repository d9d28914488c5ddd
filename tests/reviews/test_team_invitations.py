"""Joining a team: only a team admin invites, only the invitee's acceptance makes a member.
The invite form says the same whether or not an account has the address."""

import re
import smtplib

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from reviews import jobs, team_invitations
from reviews.models import AuditEntry, Membership, TeamInvitation, TeamInvitationEmail
from reviews.tasks import send_team_invitation_email


def link_in(message) -> str:
    return (
        re.search(r"http://[^\s\"<]+/team-invitations/[^\s\"<]+/", message.body)
        .group(0)
        .replace("http://127.0.0.1:8000", "")
    )


def invite_by_form(client, cast, email, role="member"):
    client.force_login(cast.admin)
    return client.post(
        reverse("reviews:team_detail", args=[cast.team.uuid]),
        {"email": email, "role": role},
        follow=True,
    )


NEW_ACCOUNT = {
    "answer": "accept",
    "username": "newbie",
    "first_name": "New",
    "last_name": "Person",
    "password1": "a long enough passphrase",
    "password2": "a long enough passphrase",
}


def test_invite_form_says_the_same_whether_or_not_an_account_exists(
    client, cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        known = invite_by_form(client, cast, "otto@example.com")
        unknown = invite_by_form(client, cast, "nobody@example.com")
    said = [
        [str(m).replace(email, "EMAIL") for m in response.context["messages"]]
        for response, email in ((known, "otto@example.com"), (unknown, "nobody@example.com"))
    ]
    assert said[0] == said[1] == ["Invitation sent to EMAIL. They join Alpha when they accept it."]
    assert known.status_code == unknown.status_code == 200
    # Nobody joined: an invitation is not a membership.
    assert not Membership.objects.filter(team=cast.team, user=cast.outsider).exists()
    assert {m.to[0] for m in mail.outbox} == {"otto@example.com", "nobody@example.com"}


def test_only_admins_invite(client, cast):
    for user in (cast.member, cast.finance, cast.viewer):
        client.force_login(user)
        response = client.post(
            reverse("reviews:team_detail", args=[cast.team.uuid]),
            {"email": "someone@example.com", "role": "admin"},
        )
        assert response.status_code == 403
    client.force_login(cast.outsider)
    response = client.post(
        reverse("reviews:team_detail", args=[cast.team.uuid]),
        {"email": "someone@example.com", "role": "admin"},
    )
    assert response.status_code == 404
    assert not TeamInvitation.objects.exists()


def test_a_bad_invitation_says_what_and_where(client, cast):
    response = invite_by_form(client, cast, "not an address")
    assert response.status_code == 400 and "email" in response.context["form"].errors
    response = invite_by_form(client, cast, "bob@example.com")
    assert response.context["form"].errors["email"] == [
        "bob@example.com is already a member of Alpha."
    ]
    assert not TeamInvitation.objects.exists()


def test_existing_account_signs_in_and_accepts(client, cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite_by_form(client, cast, "OTTO@example.com", role="finance")
    message = mail.outbox[0]
    assert "Sign in with your account" in message.body
    url = link_in(message)
    client.logout()
    page = client.get(url)
    assert page.status_code == 200 and "Sign in to answer" in page.content.decode()
    client.force_login(cast.outsider)
    response = client.post(url, {"answer": "accept"})
    assert response.status_code == 302
    assert response["Location"] == reverse("reviews:team_detail", args=[cast.team.uuid])
    assert Membership.objects.get(team=cast.team, user=cast.outsider).role == "finance"
    entry = AuditEntry.objects.get(team=cast.team, action="joined")
    assert entry.actor == cast.outsider and entry.details["role"] == "finance"
    assert entry.details["invited_by"] == "alice"
    # The link worked once.
    assert client.post(url, {"answer": "accept"}).status_code == 410


def test_new_person_sets_up_an_account_and_joins(client, cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite_by_form(client, cast, "new.person@example.com", role="viewer")
    message = mail.outbox[0]
    assert "Set up your account" in message.body
    client.logout()
    url = link_in(message)
    assert "Create my account and join" in client.get(url).content.decode()
    response = client.post(url, NEW_ACCOUNT)
    assert response.status_code == 302
    user = get_user_model().objects.get(username="newbie")
    assert user.email == "new.person@example.com"
    assert Membership.objects.get(team=cast.team, user=user).role == "viewer"
    assert client.get(reverse("reviews:team_detail", args=[cast.team.uuid])).status_code == 200
    # The address was proved by the emailed link: it signs in.
    client.logout()
    assert (
        client.post(
            reverse("login"),
            {"username": "new.person@example.com", "password": "a long enough passphrase"},
        ).status_code
        == 302
    )


def test_declining_joins_nobody(client, cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite_by_form(client, cast, "otto@example.com")
    url = link_in(mail.outbox[0])
    client.force_login(cast.outsider)
    response = client.post(url, {"answer": "decline"})
    assert response.status_code == 200 and "Invitation declined" in response.content.decode()
    assert not Membership.objects.filter(team=cast.team, user=cast.outsider).exists()
    invitation = TeamInvitation.objects.get()
    assert invitation.declined_at and not invitation.accepted_at
    assert AuditEntry.objects.filter(team=cast.team, action="declined").exists()
    assert client.post(url, {"answer": "accept"}).status_code == 410


def test_someone_else_signed_in_cannot_accept(client, cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite_by_form(client, cast, "otto@example.com")
    url = link_in(mail.outbox[0])
    client.force_login(cast.viewer)
    assert client.post(url, {"answer": "accept"}).status_code == 403
    assert client.post(url, {"answer": "decline"}).status_code == 403
    assert TeamInvitation.objects.get().status == "pending"
    assert not Membership.objects.filter(team=cast.team, user=cast.outsider).exists()


def test_a_bad_token_is_404(client, db):
    assert client.get("/team-invitations/not-a-token/").status_code == 404


def test_withdrawn_invitation_cannot_be_used(client, cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite_by_form(client, cast, "otto@example.com")
    invitation = TeamInvitation.objects.get()
    url = link_in(mail.outbox[0])
    response = client.post(
        reverse("reviews:team_invitation_revoke", args=[cast.team.uuid, invitation.uuid])
    )
    assert response.status_code == 302
    client.force_login(cast.outsider)
    assert client.post(url, {"answer": "accept"}).status_code == 410
    assert not Membership.objects.filter(team=cast.team, user=cast.outsider).exists()


def test_only_admins_withdraw(client, cast):
    invitation = team_invitations.team_invitation_create(
        team=cast.team, user=cast.admin, email="x@example.com", role="member"
    )
    url = reverse("reviews:team_invitation_revoke", args=[cast.team.uuid, invitation.uuid])
    client.force_login(cast.member)
    assert client.post(url).status_code == 403
    assert client.get(url).status_code == 405
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_my_open_invitations_show_on_my_teams_page(client, cast):
    team_invitations.team_invitation_create(
        team=cast.team, user=cast.admin, email="otto@example.com", role="member"
    )
    client.force_login(cast.outsider)
    body = client.get(reverse("reviews:team_list")).content.decode()
    assert "Invitations for you" in body and "Alpha as member" in body
    client.force_login(cast.viewer)
    assert "Invitations for you" not in client.get(reverse("reviews:team_list")).content.decode()


def test_the_email_is_a_job_sent_once(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        team_invitations.team_invitation_create(
            team=cast.team, user=cast.admin, email="x@example.com", role="member"
        )
    job = TeamInvitationEmail.objects.get()
    assert job.status == "sent" and len(mail.outbox) == 1
    assert send_team_invitation_email(job.pk) is False
    assert len(mail.outbox) == 1
    assert TeamInvitation.objects.get().sent_at is not None


def test_mail_trouble_is_tried_again(cast, monkeypatch, django_capture_on_commit_callbacks):
    def refuse(self, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        team_invitations.team_invitation_create(
            team=cast.team, user=cast.admin, email="x@example.com", role="member"
        )
    job = TeamInvitationEmail.objects.get()
    assert job.status == "pending" and job.attempts == 1 and "gone" in job.last_error
    assert TeamInvitationEmail in jobs.job_models()


def test_new_account_username_cannot_be_someone_elses_email(
    client, cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite_by_form(client, cast, "new.person@example.com")
    client.logout()
    url = link_in(mail.outbox[0])
    response = client.post(url, {**NEW_ACCOUNT, "username": "bob@example.com"})
    assert response.status_code == 400
    assert "must be your own address" in response.context["form"].errors["username"][0]
    assert not Membership.objects.filter(team=cast.team, user__email="new.person@example.com")


@pytest.mark.parametrize("who", ["member", "finance", "viewer"])
def test_invitation_pages_hidden_from_non_admins(client, cast, who):
    team_invitations.team_invitation_create(
        team=cast.team, user=cast.admin, email="x@example.com", role="member"
    )
    client.force_login(getattr(cast, who))
    body = client.get(reverse("reviews:team_detail", args=[cast.team.uuid])).content.decode()
    assert "x@example.com" not in body


def test_password_is_never_needed_to_decline(client, cast, django_capture_on_commit_callbacks):
    """Declining needs only the emailed link, not an account."""
    with django_capture_on_commit_callbacks(execute=True):
        invite_by_form(client, cast, "nobody@example.com")
    client.logout()
    response = client.post(link_in(mail.outbox[0]), {"answer": "decline"})
    assert response.status_code == 200
    assert TeamInvitation.objects.get().status == "declined"
    assert not get_user_model().objects.filter(email="nobody@example.com").exists()


def test_invitation_links_are_limited_per_address(db, settings):
    from django.test import Client

    url = reverse("reviews:team_invitation_answer", args=["no-such-token"])
    client = Client(REMOTE_ADDR="192.0.2.40")
    limit = int(settings.RATE_LIMITS["reviews:team_invitation_answer"][0].split("/")[0])
    for _ in range(limit):
        assert client.get(url).status_code == 404
    assert client.get(url).status_code == 429
    assert client.post(url).status_code == 429
    assert Client(REMOTE_ADDR="192.0.2.41").get(url).status_code == 404
