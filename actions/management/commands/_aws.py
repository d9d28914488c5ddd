"""What the AWS commands share: who runs them, checked like the UI."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import CommandError
from django.db.models import Q


def user_named(who: str) -> User:
    """The user with this username or email (exactly one)."""
    users = list(get_user_model().objects.filter(Q(username=who) | Q(email__iexact=who))[:2])
    if len(users) != 1:
        raise CommandError(
            f"No single user is “{who}”: give a username, or an email that one user has."
        )
    return users[0]
