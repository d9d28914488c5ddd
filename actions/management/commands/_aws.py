"""What the commands that bring work into a team share: who runs them, checked like the UI."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import CommandError
from django.db.models import Q
from django.http import Http404

from reviews.access import team_for_user
from reviews.models import Team


def user_named(who: str) -> User:
    """The user with this username or email (exactly one)."""
    users = list(get_user_model().objects.filter(Q(username=who) | Q(email__iexact=who))[:2])
    if len(users) != 1:
        raise CommandError(
            f"No single user is “{who}”: give a username, or an email that one user has."
        )
    return users[0]


def team_to_import_into(team_id: str, who: str) -> tuple[Team, User]:
    """The team (by its UUID) and the user named `who`, who must be an admin or a member of
    it, as in the UI; anything else is a CommandError that says what is wrong."""
    try:
        team_uuid = UUID(team_id)
    except ValueError:
        raise CommandError(f"“{team_id}” is not a team id.") from None
    user = user_named(who)
    try:
        team, membership = team_for_user(user, team_uuid)
    except Http404:
        raise CommandError(f"{user} is not in a team {team_uuid}.") from None
    if not membership.can_edit:
        raise CommandError(f"{user} cannot import into {team}: only admins and members can.")
    return team, user
