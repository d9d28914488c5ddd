from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

from reviews.accounts import login_username


def account_username(login: str) -> str:
    """The username an entered login stands for (reviews.accounts.login_username): itself,
    or the username of the one account that verified that address. A login that stands
    for no account is returned as entered, which signs nobody in."""
    return login_username(login) or login


class UsernameOrEmailBackend(ModelBackend):
    """Sign in with either the username or the email address."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> AbstractBaseUser | None:
        if username:
            resolved = login_username(username)
            if resolved is None:
                return None
            username = resolved
        return super().authenticate(request, username=username, password=password, **kwargs)


def login_name(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """What django-axes counts sign-in failures by (with the client address): the account's
    username, so that its username and its email address share one count."""
    raw = credentials.get("username") if credentials else request.POST.get("username")
    if not raw:
        return None
    # Axes stores at most 255 characters; the login forms refuse longer names anyway.
    return account_username(str(raw).replace("\x00", ""))[:255]
