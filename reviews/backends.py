from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.http import HttpRequest


def account_username(login: str) -> str:
    """The username an entered login stands for: the account whose username it is, else the
    account with that email address, else the login as entered."""
    users = get_user_model().objects
    if "@" in login and not users.filter(username=login).exists():
        user = users.filter(email__iexact=login.strip()).order_by("pk").first()
        if user is not None:
            return user.get_username()
    return login


class UsernameOrEmailBackend(ModelBackend):
    """Sign in with either the username or the email address."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username:
            username = account_username(username)
        return super().authenticate(request, username=username, password=password, **kwargs)


def login_name(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """What django-axes counts sign-in failures by (with the client address): the account's
    username, so that its username and its email address share one count."""
    raw = credentials.get("username") if credentials else request.POST.get("username")
    if not raw:
        return None
    # Axes stores at most 255 characters; the login forms refuse longer names anyway.
    return account_username(str(raw).replace("\x00", ""))[:255]
