"""Invitations: the email and its signed link, accepting as a new or existing user, expiry,
reuse, revoke, resend, and the wrong user."""

import re
import smtplib
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import timezone

from reviews import invitations, jobs
from reviews.models import Invitation, InvitationEmail, Membership, Participant
from reviews.tasks import send_invitation_email
from tests.conftest import make_user


def invite(review, cast, email="new.person@example.com", role="operations"):
    return invitations.invitation_create(session=review, user=cast.admin, email=email, role=role)


def link_in(message) -> str:
    return (
        re.search(r"http://[^\s\"<]+/invitations/[^\s\"<]+/", message.body)
        .group(0)
        .replace("http://127.0.0.1:8000", "")
    )


@pytest.fixture
def invitation(review, cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return invite(review, cast)


def test_invitation_email_has_the_link_and_a_calendar_event(invitation, review):
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.person@example.com"]
    assert "Checkout" in message.subject
    assert "/invitations/" in message.body
    html = message.alternatives[0][0]
    assert "Join the review" in html and link_in(message) in html
    filename, content, mimetype = message.attachments[0]
    assert filename == "review.ics" and mimetype.startswith("text/calendar")
    assert b"BEGIN:VEVENT" in (content if isinstance(content, bytes) else content.encode())
    invitation.refresh_from_db()
    assert invitation.sent_at is not None


def test_sending_twice_sends_once(invitation):
    email = InvitationEmail.objects.get(invitation=invitation)
    assert email.status == InvitationEmail.Status.SENT and email.attempts == 1
    assert send_invitation_email(email.pk) is False
    assert len(mail.outbox) == 1


def test_new_user_sets_a_password_and_joins(client, invitation, review, cast):
    url = link_in(mail.outbox[0])
    page = client.get(url)
    assert page.status_code == 200 and "Set up your account" in page.content.decode()
    response = client.post(
        url,
        {
            "username": "newbie",
            "first_name": "New",
            "last_name": "Person",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse(
        "reviews:session_detail", args=[review.uuid]
    )
    user = get_user_model().objects.get(username="newbie")
    assert user.email == "new.person@example.com" and user.check_password(
        "a long enough passphrase"
    )
    participant = Participant.objects.get(session=review, user=user)
    assert participant.role == "operations" and participant.is_guest
    assert not Membership.objects.filter(team=cast.team, user=user).exists()  # a guest
    assert (
        client.get(reverse("reviews:session_detail", args=[review.uuid])).status_code == 200
    )  # signed in
    invitation.refresh_from_db()
    assert invitation.accepted_at and invitation.accepted_by == user


def test_new_account_form_validates(client, invitation):
    url = link_in(mail.outbox[0])
    response = client.post(url, {"username": "bob", "password1": "short", "password2": "other"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["username"] == ["That username is taken: choose another."]
    assert errors["password2"] == ["The two passwords differ."]
    assert not Participant.objects.filter(user__email="new.person@example.com").exists()


def test_existing_user_signs_in_then_just_joins(
    client, review, cast, django_capture_on_commit_callbacks
):
    carol = make_user("carol")
    with django_capture_on_commit_callbacks(execute=True):
        invite(review, cast, email="Carol@Example.com", role="observer")
    url = link_in(mail.outbox[0])
    page = client.get(url)
    assert "Sign in to join" in page.content.decode()
    client.force_login(carol)
    assert "Join as observer" in client.get(url).content.decode()
    assert client.post(url).status_code == 302
    assert Participant.objects.get(session=review, user=carol).role == "observer"
    assert not Membership.objects.filter(team=cast.team, user=carol).exists()  # a guest


def test_a_link_works_once(client, invitation):
    url = link_in(mail.outbox[0])
    client.post(
        url,
        {
            "username": "newbie",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
        },
    )
    client.logout()
    again = client.get(url)
    assert again.status_code == 410 and "already been used" in again.content.decode()
    assert (
        client.post(
            url,
            {
                "username": "other",
                "password1": "a long enough passphrase",
                "password2": "a long enough passphrase",
            },
        ).status_code
        == 410
    )
    assert get_user_model().objects.filter(email="new.person@example.com").count() == 1


def test_an_expired_link_is_refused(client, invitation):
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = client.get(link_in(mail.outbox[0]))
    assert response.status_code == 410 and "expired" in response.content.decode()


def test_links_expire_after_seven_days(invitation):
    assert timedelta(days=6, hours=23) < invitation.expires_at - timezone.now() <= timedelta(days=7)


def test_a_revoked_link_is_refused(client, invitation, cast):
    client.force_login(cast.admin)
    client.post(
        reverse("reviews:invitation_revoke", args=[invitation.session.uuid, invitation.uuid])
    )
    client.logout()
    response = client.get(link_in(mail.outbox[0]))
    assert response.status_code == 410 and "withdrawn" in response.content.decode()


def test_resend_sends_a_new_link_and_the_old_one_stops_working(
    client, invitation, cast, django_capture_on_commit_callbacks
):
    old = link_in(mail.outbox[0])
    client.force_login(cast.admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("reviews:invitation_resend", args=[invitation.session.uuid, invitation.uuid])
        )
    client.logout()
    assert len(mail.outbox) == 2
    new = link_in(mail.outbox[1])
    assert new != old
    assert "newer invitation" in client.get(old).content.decode()
    assert client.get(new).status_code == 200


def test_tampered_link_is_invalid(client, invitation):
    url = link_in(mail.outbox[0])
    response = client.get(url[:-5] + "xxxx/")
    assert response.status_code == 404 and "not valid" in response.content.decode()


def test_wrong_user_cannot_accept(client, invitation, cast):
    client.force_login(cast.member)
    url = link_in(mail.outbox[0])
    response = client.get(url)
    assert response.status_code == 403
    assert (
        "This invitation is for new.person@example.com, but you are signed in as bob"
        in response.content.decode()
    )
    assert client.post(url).status_code == 403
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_how_each_person_accepts(invitation, cast):
    """One rule, asked by the page and by the service that accepts."""
    assert invitations.invitation_mode(invitation=invitation, user=None) == "new_account"
    person = get_user_model().objects.create_user("newbie", email="New.Person@example.com")
    assert invitations.invitation_mode(invitation=invitation, user=None) == "sign_in"
    assert invitations.invitation_mode(invitation=invitation, user=person) == "join"
    with pytest.raises(invitations.InvitationError) as refused:
        invitations.invitation_mode(invitation=invitation, user=cast.member)
    assert refused.value.reason == "wrong_user"


def test_an_existing_account_must_sign_in_to_accept(invitation):
    get_user_model().objects.create_user("newbie", email="new.person@example.com")
    with pytest.raises(invitations.InvitationError, match="sign in to accept"):
        invitations.invitation_accept(
            invitation=invitation, new_user={"username": "again", "password": "x" * 12}
        )
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_duplicate_and_participant_invitations_are_refused(review, cast, invitation):
    with pytest.raises(invitations.ServiceError, match="already been invited"):
        invite(review, cast)
    with pytest.raises(invitations.ServiceError, match="already takes part"):
        invite(review, cast, email="alice@example.com")


def test_invite_view_validates_and_reports(client, cast, review):
    client.force_login(cast.admin)
    url = reverse("reviews:invitation_create", args=[review.uuid])
    response = client.post(url, {"email": "not-an-email", "role": "operations"}, follow=True)
    assert "Email: Enter a valid email address." in response.content.decode()
    response = client.post(url, {"email": "x@example.com", "role": "operations"}, follow=True)
    assert "Invitation sent to x@example.com." in response.content.decode()
    assert Invitation.objects.filter(session=review, email="x@example.com").exists()


@pytest.mark.parametrize("who", ["member", "viewer", "finance"])
def test_only_the_facilitator_manages_invitations(client, cast, review, invitation, who):
    client.force_login(getattr(cast, who))
    assert (
        client.post(
            reverse("reviews:invitation_create", args=[review.uuid]),
            {"email": "y@example.com", "role": "observer"},
        ).status_code
        == 403
    )
    assert (
        client.post(
            reverse("reviews:invitation_revoke", args=[review.uuid, invitation.uuid])
        ).status_code
        == 403
    )
    assert (
        client.post(
            reverse("reviews:invitation_resend", args=[review.uuid, invitation.uuid])
        ).status_code
        == 403
    )


def test_wrong_method(client, cast, review, invitation):
    client.force_login(cast.admin)
    assert client.get(reverse("reviews:invitation_create", args=[review.uuid])).status_code == 405
    assert (
        client.get(
            reverse("reviews:invitation_revoke", args=[review.uuid, invitation.uuid])
        ).status_code
        == 405
    )
    assert client.delete(link_in(mail.outbox[0])).status_code == 405


# --- The email of each link: a job row ------------------------------------------------------


def test_mail_server_trouble_waits_for_the_backoff_and_the_sweep_sends_it(
    review, cast, monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(self, fail_silently=False):
        raise smtplib.SMTPRecipientsRefused({"new.person@example.com": (451, b"busy")})

    with monkeypatch.context() as patched:
        patched.setattr(EmailMultiAlternatives, "send", refuse)
        with django_capture_on_commit_callbacks(execute=True):
            invitation = invite(review, cast)
    email = InvitationEmail.objects.get(invitation=invitation)
    assert (email.status, email.attempts) == (InvitationEmail.Status.PENDING, 1)
    assert "SMTPRecipientsRefused" in email.last_error
    assert Invitation.objects.get(pk=invitation.pk).sent_at is None and mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.job_sweep(InvitationEmail).requeued == [], "not before the backoff"
    with (
        time_machine.travel(email.next_attempt_at, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert jobs.job_sweep(InvitationEmail).requeued == [email.pk]

    email.refresh_from_db()
    assert (email.status, email.attempts) == (InvitationEmail.Status.SENT, 2)
    assert [m.to for m in mail.outbox] == [["new.person@example.com"]]
    assert Invitation.objects.get(pk=invitation.pk).sent_at == email.finished_at


def test_a_link_resent_before_its_email_went_out_is_skipped_and_the_new_one_sent(
    review, cast, django_capture_on_commit_callbacks
):
    invitation = invite(review, cast)  # its email waits: nothing commits in this test
    with django_capture_on_commit_callbacks(execute=True):
        invitations.invitation_resend(invitation=invitation)
    first, second = InvitationEmail.objects.order_by("nonce")

    assert send_invitation_email(first.pk) is False
    assert send_invitation_email(second.pk) is False, "sent already, on commit"
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.nonce, first.status) == (0, InvitationEmail.Status.SKIPPED)
    assert (second.nonce, second.status) == (1, InvitationEmail.Status.SENT)
    assert len(mail.outbox) == 1 and "newer invitation" not in mail.outbox[0].body


def test_an_invitation_withdrawn_before_its_email_went_out_sends_nothing(review, cast):
    invitation = invite(review, cast)
    invitations.invitation_revoke(invitation=invitation)
    email = InvitationEmail.objects.get(invitation=invitation)

    assert send_invitation_email(email.pk) is False

    email.refresh_from_db()
    assert email.status == InvitationEmail.Status.SKIPPED and mail.outbox == []
