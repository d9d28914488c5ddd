"""Personal access tokens: hashed at rest, shown once, revocable, listed with their last use,
and they open the API only."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from actions.api import tokens
from actions.api.models import ApiToken
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def test_the_token_is_kept_only_as_its_sha256(cast):
    token, raw = tokens.token_create(user=cast.admin, name="CI", scope="read")
    stored = ApiToken.objects.values().get(pk=token.pk)
    assert raw.startswith(f"pw_{token.prefix}_")
    assert stored["digest"] == hashlib.sha256(raw.encode()).hexdigest()
    secret = raw.rsplit("_", 1)[1]
    assert not any(secret in str(value) for value in stored.values())


def test_a_token_opens_the_api_and_records_its_last_use(cast):
    token, raw = tokens.token_create(user=cast.admin, name="CI", scope="read")
    assert token.last_used_at is None
    response = ApiClient(raw).get("/api/workloads")
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    "header",
    [None, "Bearer ", "Bearer nonsense", "Bearer pw_abcd1234_wrong", "Basic dXNlcjpwYXNz"],
)
def test_without_a_valid_token_the_api_answers_401(cast, client, header):
    tokens.token_create(user=cast.admin, name="CI", scope="read")
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/workloads", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"].startswith("Send a valid API token")


def test_a_wrong_secret_with_a_real_prefix_is_401(cast):
    token, raw = tokens.token_create(user=cast.admin, name="CI", scope="read")
    forged = raw[:-4] + ("AAAA" if not raw.endswith("AAAA") else "BBBB")
    assert ApiClient(forged).get("/api/workloads").status_code == 401


def test_a_revoked_token_is_401(cast):
    token, raw = tokens.token_create(user=cast.admin, name="CI", scope="read")
    tokens.token_revoke(token=token)
    assert ApiClient(raw).get("/api/workloads").status_code == 401


def test_an_expired_token_is_401(cast, time_machine):
    token, raw = tokens.token_create(
        user=cast.admin, name="CI", scope="read", expires_at=timezone.now() + timedelta(days=1)
    )
    assert ApiClient(raw).get("/api/workloads").status_code == 200
    time_machine.move_to(timezone.now() + timedelta(days=1, seconds=1), tick=False)
    assert ApiClient(raw).get("/api/workloads").status_code == 401


def test_a_deactivated_user_s_token_is_401(cast):
    raw = tokens.token_create(user=cast.admin, name="CI", scope="read")[1]
    cast.admin.is_active = False
    cast.admin.save(update_fields=["is_active"])
    assert ApiClient(raw).get("/api/workloads").status_code == 401


def test_a_token_does_not_sign_in_to_the_pages(cast, client):
    raw = tokens.token_create(user=cast.admin, name="CI", scope="write")[1]
    response = client.get(
        reverse("reviews:workload_list"), headers={"Authorization": f"Bearer {raw}"}
    )
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_a_signed_in_browser_without_a_token_gets_401_from_the_api(cast, client):
    client.force_login(cast.admin)
    assert client.get("/api/workloads").status_code == 401


# --- The settings page ------------------------------------------------------------------------


def test_the_page_creates_a_token_and_shows_it_once(cast, client):
    client.force_login(cast.admin)
    url = reverse("api:tokens")
    response = client.post(url, {"name": "Nightly report", "scope": "write"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=cast.admin)
    raw = response.context["secret"]
    assert raw.startswith(f"pw_{token.prefix}_")
    assert raw in response.content.decode()
    assert token.scope == "write" and token.name == "Nightly report"
    # Shown once: the page afterwards lists the token by its prefix, never its secret.
    page = client.get(url).content.decode()
    assert "Nightly report" in page and f"pw_{token.prefix}_" in page
    assert raw not in page
    assert ApiClient(raw).get("/api/workloads").status_code == 200


def test_the_page_creates_a_token_with_htmx(cast, client):
    client.force_login(cast.admin)
    response = client.post(
        reverse("api:tokens"), {"name": "CI", "scope": "read"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="tokens"')
    assert "<html" not in html
    token = ApiToken.objects.get(user=cast.admin)
    raw = re.search(r'value="(pw_[^"]+)"', html)[1]
    assert raw.startswith(f"pw_{token.prefix}_")
    assert ApiClient(raw).get("/api/workloads").status_code == 200


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "scope": "read"}, "name"),
        ({"name": "CI", "scope": "admin"}, "scope"),
        ({"name": "CI", "scope": "read", "expires_on": "2000-01-01"}, "expires_on"),
        ({"name": "CI", "scope": "read", "expires_on": "someday"}, "expires_on"),
    ],
)
def test_a_bad_form_is_400_with_the_field_s_error_and_makes_nothing(cast, client, data, field):
    client.force_login(cast.admin)
    response = client.post(reverse("api:tokens"), data, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_the_page_lists_last_use_and_revokes(cast, client):
    token, raw = tokens.token_create(user=cast.admin, name="CI", scope="read")
    ApiClient(raw).get("/api/workloads")
    client.force_login(cast.admin)
    page = client.get(reverse("api:tokens"))
    assert page.context["tokens"][0].last_used_at is not None
    response = client.post(reverse("api:token_revoke", args=[token.uuid]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert ApiClient(raw).get("/api/workloads").status_code == 401


def test_revoking_with_htmx_re_renders_the_list(cast, client):
    token = tokens.token_create(user=cast.admin, name="CI", scope="read")[0]
    client.force_login(cast.admin)
    response = client.post(
        reverse("api:token_revoke", args=[token.uuid]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "Revoked" in response.content.decode()


def test_someone_else_s_token_cannot_be_revoked(cast, client):
    token = tokens.token_create(user=cast.admin, name="CI", scope="read")[0]
    client.force_login(cast.member)
    assert client.post(reverse("api:token_revoke", args=[token.uuid])).status_code == 404
    assert client.get(reverse("api:token_revoke", args=[token.uuid])).status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_page_needs_a_sign_in(client):
    response = client.get(reverse("api:tokens"))
    assert response.status_code == 302
