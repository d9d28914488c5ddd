"""Accounts and the addresses they sign in with.

An address is *verified* for an account once the account has shown it receives mail
there: it accepted an emailed invitation, or reset its password through an emailed link.
Signing in with an address finds only the one account that verified it, so nobody can take
over someone's sign-in by choosing a username, or an unproved email, that looks like
their address. For the same reason a username may look like an email address only when it
is the account's own address."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from reviews.models import VerifiedEmail


def normalized_email(email: str) -> str:
    """An address as invitations and sign-in compare it: trimmed, lower case."""
    return get_user_model().objects.normalize_email(email.strip()).lower()


def looks_like_email(name: str) -> bool:
    return "@" in name


def username_problem(username: str, *, email: str, user=None) -> str | None:
    """Why `username` may not be used by an account with address `email` (`user`: the
    account itself when it exists), or None."""
    users = get_user_model().objects.all()
    if user is not None:
        users = users.exclude(pk=user.pk)
    if users.filter(username__iexact=username).exists():
        return "That username is taken: choose another."
    if looks_like_email(username):
        if username.strip().lower() != (email or "").strip().lower():
            return "A username that looks like an email address must be your own address."
        if users.filter(email__iexact=username).exists():
            return "That username is taken: choose another."
    return None


def validate_username(username: str, *, email: str, user=None) -> None:
    problem = username_problem(username, email=email, user=user)
    if problem:
        raise ValidationError(problem, code="username")


@transaction.atomic
def email_verified(*, user, email: str) -> None:
    """Record that `user` receives mail at `email` (their account's address)."""
    if not email or email.strip().lower() != (user.email or "").strip().lower():
        return
    VerifiedEmail.objects.update_or_create(
        user=user, defaults={"email": user.email, "verified_at": timezone.now()}
    )


def account_for_email(email: str):
    """The one active account whose verified address, still its address, is `email`;
    None when there is none or more than one."""
    email = email.strip()
    matches = list(
        get_user_model()
        .objects.filter(
            is_active=True,
            email__iexact=email,
            verified_email__email__iexact=email,
        )
        .order_by("pk")[:2]
    )
    return matches[0] if len(matches) == 1 else None


def login_username(login: str) -> str | None:
    """The username a login entered on the sign-in form stands for, or None when it
    stands for no account that may sign in with it.

    A login without "@" is a username. A login with "@" is an address: it signs in the
    one account that verified it. Failing that, a username with "@" from before these rules
    still signs in, but only while no other account uses that address."""
    if not looks_like_email(login):
        return login
    account = account_for_email(login)
    if account is not None:
        return account.get_username()
    users = get_user_model().objects
    holder = users.filter(username=login).first()
    if holder is None:
        return None
    others = users.exclude(pk=holder.pk).filter(email__iexact=login.strip())
    return None if others.exists() else login
