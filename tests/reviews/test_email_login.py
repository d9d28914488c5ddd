"""Signing in by email cannot be shadowed: an address signs in only the one account that
verified it, and a username may look like an email address only when it is the account's
own."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core import mail
from django.urls import reverse

from reviews import accounts, invitations
from reviews.models import VerifiedEmail
from tests.conftest import PASSWORD


def make_user(username, *, email, password=PASSWORD):
    return get_user_model().objects.create_user(username=username, email=email, password=password)


def sign_in(client, login, password=PASSWORD):
    return client.post(reverse("login"), {"username": login, "password": password})


def signed_in_as(client):
    return client.session.get(SESSION_KEY)


def verify(user):
    accounts.email_verified(user=user, email=user.email)


def test_a_verified_address_signs_in(client, cast):
    verify(cast.member)
    assert sign_in(client, "Bob@Example.com").status_code == 302
    assert signed_in_as(client) == str(cast.member.pk)


def test_an_unverified_address_does_not_sign_in(client, cast):
    assert sign_in(client, "bob@example.com").status_code == 200
    assert signed_in_as(client) is None
    assert sign_in(client, "bob").status_code == 302  # the username still does


def test_a_lookalike_username_does_not_take_someone_elses_sign_in(client, cast):
    """The account `bob@example.com` (made before the username rule) must not receive
    Bob's sign-in by address, nor be signed in with its own password by that name."""
    verify(cast.member)
    make_user("bob@example.com", email="mallory@example.com")
    assert sign_in(client, "bob@example.com").status_code == 302
    assert signed_in_as(client) == str(cast.member.pk)
    client.logout()
    # Mallory's password with that name: it is Bob's address, so it stands for Bob.
    lookalike = get_user_model().objects.get(username="bob@example.com")
    lookalike.set_password("mallory's own password")
    lookalike.save()
    assert sign_in(client, "bob@example.com", "mallory's own password").status_code == 200
    assert signed_in_as(client) is None


def test_a_lookalike_username_does_not_sign_in_while_another_account_has_that_address(client, cast):
    make_user("bob@example.com", email="mallory@example.com")  # bob has not verified
    assert sign_in(client, "bob@example.com").status_code == 200
    assert signed_in_as(client) is None


def test_an_address_shared_by_two_accounts_signs_in_neither(client, cast):
    verify(cast.member)
    twin = make_user("bobby", email="BOB@example.com")
    verify(twin)
    assert accounts.account_for_email("bob@example.com") is None
    assert sign_in(client, "bob@example.com").status_code == 200
    assert signed_in_as(client) is None


def test_an_address_changed_after_verifying_is_no_longer_verified(client, cast):
    verify(cast.member)
    cast.member.email = "robert@example.com"
    cast.member.save()
    assert sign_in(client, "robert@example.com").status_code == 200
    assert sign_in(client, "bob@example.com").status_code == 200
    assert signed_in_as(client) is None


@pytest.mark.parametrize(
    ("username", "email", "ok"),
    [
        ("newbie", "new@example.com", True),
        ("new@example.com", "new@example.com", True),  # the account's own address
        ("NEW@example.com", "new@example.com", True),
        ("bob@example.com", "new@example.com", False),  # someone else's address
        ("other@example.com", "new@example.com", False),  # nobody's yet, but not theirs
        ("BOB", "new@example.com", False),  # taken
    ],
)
def test_username_rules(cast, username, email, ok):
    assert (accounts.username_problem(username, email=email) is None) is ok


def test_a_username_equal_to_another_accounts_email_is_refused_on_sign_up(
    client, cast, review, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitations.invitation_create(
            session=review, user=cast.admin, email="new@example.com", role="observer"
        )
    path = mail.outbox[0].body.split("http://127.0.0.1:8000", 1)[1].split()[0]
    form = {
        "username": "alice@example.com",
        "password1": "a long enough passphrase",
        "password2": "a long enough passphrase",
    }
    response = client.post(path, form)
    assert response.status_code == 200
    assert "must be your own address" in response.context["form"].errors["username"][0]
    response = client.post(path, {**form, "username": "new@example.com"})
    assert response.status_code == 302
    # Accepting the emailed link verified the address: it signs in.
    client.logout()
    assert sign_in(client, "new@example.com", "a long enough passphrase").status_code == 302


def test_a_password_reset_by_email_verifies_the_address(client, cast):
    client.post(reverse("password_reset"), {"email": "bob@example.com"})
    link = next(
        line for line in mail.outbox[0].body.splitlines() if "/password/reset/" in line
    ).strip()
    path = link.split("http://127.0.0.1:8000", 1)[1]
    page = client.get(path, follow=True)
    client.post(
        page.redirect_chain[-1][0],
        {"new_password1": "a brand new passphrase", "new_password2": "a brand new passphrase"},
    )
    assert VerifiedEmail.objects.filter(user=cast.member, email="bob@example.com").exists()
    client.logout()
    assert sign_in(client, "bob@example.com", "a brand new passphrase").status_code == 302


def test_an_older_username_with_an_at_sign_still_signs_in_while_nobody_has_that_address(
    client, cast
):
    old = make_user("carol@example.org", email="carol@elsewhere.org")
    assert sign_in(client, "carol@example.org").status_code == 302
    assert signed_in_as(client) == str(old.pk)
