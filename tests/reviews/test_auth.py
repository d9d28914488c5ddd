"""Signing in with a username or an email, signing out, changing the password; every page
but the login page needs a signed-in user."""

import pytest
from django.urls import reverse

from reviews import accounts
from tests.conftest import PASSWORD


@pytest.mark.parametrize("login", ["bob", "bob@example.com", "BOB@example.com"])
def test_sign_in_with_username_or_verified_email(client, cast, login):
    accounts.email_verified(user=cast.member, email=cast.member.email)
    response = client.post(reverse("login"), {"username": login, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("reviews:workload_list")).status_code == 200


def test_wrong_password_shows_an_error(client, cast):
    response = client.post(reverse("login"), {"username": "bob", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_pages_redirect_anonymous_users_to_login(client, cast):
    for url in (
        reverse("home"),
        reverse("reviews:workload_list"),
        reverse("reviews:workload_detail", args=[cast.workload.uuid]),
        reverse("questionnaires:lens_list"),
        reverse("reviews:team_list"),
        reverse("password_change"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_login_page_is_public(client, db):
    assert client.get(reverse("login")).status_code == 200


def test_logout_needs_post_and_signs_out(client, cast):
    client.force_login(cast.member)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("reviews:workload_list")).status_code == 302


def test_password_change(client, cast):
    client.force_login(cast.member)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a new long passphrase",
            "new_password2": "a new long passphrase",
        },
    )
    assert response.status_code == 302
    cast.member.refresh_from_db()
    assert cast.member.check_password("a new long passphrase")


def test_password_change_rejects_a_wrong_old_password(client, cast):
    client.force_login(cast.member)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "wrong",
            "new_password1": "a new long passphrase",
            "new_password2": "a new long passphrase",
        },
    )
    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()
