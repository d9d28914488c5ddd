"""Password reset by email: asked for from the login page, a link in an email in our style,
a new password set through it (signed in, any lockout ended), and the link then refused."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD

NEW_PASSWORD = "a brand new passphrase"


def ask_for_a_link(client: Client, email: str) -> Any:
    return client.post(reverse("password_reset"), {"email": email})


def link_in(message: mail.EmailMessage) -> str:
    found = re.search(r"https?://\S+/password/reset/\S+/\S+/", message.body)
    assert found, message.body
    return found.group(0)


def path_of(link: str, site_url: str) -> str:
    assert link.startswith(site_url)
    return link.removeprefix(site_url)


def set_password(client: Client, link_path: str, password: str = NEW_PASSWORD) -> Any:
    form_page = client.get(link_path)  # Django moves the token out of the address first
    assert form_page.status_code == 302
    return client.post(
        form_page["Location"], {"new_password1": password, "new_password2": password}
    )


def test_the_login_page_links_to_the_reset(client, db):
    body = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}"' in body and "Forgot your password?" in body


def test_asking_sends_an_email_in_our_style(client, cast, settings, mailoutbox):
    settings.SITE_URL = "https://pillarwise.example.com"
    response = ask_for_a_link(client, "BOB@example.com")
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert "Check your email" in client.get(response["Location"]).content.decode()
    [message] = mailoutbox
    assert message.to == ["bob@example.com"]
    assert message.subject == "Reset your Pillarwise password"
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    link = link_in(message)
    assert link.startswith("https://pillarwise.example.com/password/reset/")
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{link}"' in html and "Set a new password" in html
    assert "Pillarwise" in html and "If it was not you, ignore this email" in html


def test_an_unknown_address_gets_the_same_answer_and_no_email(client, db, mailoutbox):
    response = ask_for_a_link(client, "nobody@example.com")
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert mailoutbox == []


def test_a_bad_address_is_a_form_error(client, db, mailoutbox):
    for email in ("not an address", "", "a\x00@example.com", "x" * 300 + "@example.com"):
        response = ask_for_a_link(client, email)
        assert response.status_code == 200
        assert 'class="field has-error required"' in response.content.decode()
    assert mailoutbox == []


def test_the_link_sets_a_new_password_and_signs_in(client, cast, settings, mailoutbox):
    ask_for_a_link(client, "bob@example.com")
    link = path_of(link_in(mailoutbox[0]), settings.SITE_URL)
    form_page = client.get(link)
    assert form_page.status_code == 302
    page = client.get(form_page["Location"])
    assert page.status_code == 200 and "Set a new password" in page.content.decode()
    response = client.post(
        form_page["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_complete")
    assert "Your new password is set" in client.get(response["Location"]).content.decode()
    assert client.session[SESSION_KEY] == str(cast.member.pk)
    cast.member.refresh_from_db()
    assert cast.member.check_password(NEW_PASSWORD)
    # The new password signs in; the old one no longer does.
    other = Client()
    assert (
        other.post(reverse("login"), {"username": "bob", "password": PASSWORD}).status_code == 200
    )
    assert (
        other.post(reverse("login"), {"username": "bob", "password": NEW_PASSWORD}).status_code
        == 302
    )


def test_a_used_link_is_refused(client, cast, settings, mailoutbox):
    ask_for_a_link(client, "bob@example.com")
    link = path_of(link_in(mailoutbox[0]), settings.SITE_URL)
    set_password(client, link)
    again = Client()
    page = again.get(link, follow=True)
    assert page.status_code == 200
    body = page.content.decode()
    assert "This link cannot be used" in body and "new_password1" not in body
    cast.member.refresh_from_db()
    assert cast.member.check_password(NEW_PASSWORD)


def test_an_older_link_is_refused_once_a_newer_one_is_used(client, cast, settings, mailoutbox):
    ask_for_a_link(client, "bob@example.com")
    ask_for_a_link(client, "bob@example.com")
    first, second = (path_of(link_in(m), settings.SITE_URL) for m in mailoutbox)
    set_password(Client(), second)
    assert "This link cannot be used" in Client().get(first, follow=True).content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/password/reset/AA/bad-token/",
        "/password/reset/%C2%B2/set-password/",
        "/password/reset/" + "9" * 5000 + "/x/",
        "/password/reset/MQ/set-password/",
    ],
)
def test_a_made_up_link_is_refused_not_an_error(client, db, path):
    page = client.get(path, follow=True)
    assert page.status_code in (200, 404)
    if page.status_code == 200:
        assert "This link cannot be used" in page.content.decode()


def test_a_password_the_validators_refuse_is_a_form_error(client, cast, settings, mailoutbox):
    ask_for_a_link(client, "bob@example.com")
    link = path_of(link_in(mailoutbox[0]), settings.SITE_URL)
    response = set_password(client, link, "12345678")
    assert response.status_code == 200 and "too common" in response.content.decode()
    cast.member.refresh_from_db()
    assert cast.member.check_password(PASSWORD)


def test_the_reset_ends_a_lockout(client, cast, settings, mailoutbox):
    locked = Client(REMOTE_ADDR="192.0.2.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        locked.post(reverse("login"), {"username": "bob", "password": "wrong"})
    assert (
        locked.post(reverse("login"), {"username": "bob", "password": PASSWORD}).status_code == 429
    )
    # The reset is done on another device (another address).
    phone = Client(REMOTE_ADDR="198.51.100.3")
    ask_for_a_link(phone, "bob@example.com")
    set_password(phone, path_of(link_in(mailoutbox[0]), settings.SITE_URL))
    response = locked.post(reverse("login"), {"username": "bob", "password": NEW_PASSWORD})
    assert response.status_code == 302


def test_a_mail_server_that_refuses_is_no_error_page(client, cast, settings, free_port, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port, 2
    response = ask_for_a_link(client, "bob@example.com")
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert "Failed to send password reset email" in caplog.text
