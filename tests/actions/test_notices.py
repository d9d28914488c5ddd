"""The bell for what happens to someone: made an action's owner by someone else, invited to
a review or a team with an existing account; each settable in preferences."""

import pytest
from django.core import mail
from django.urls import resolve, reverse

from actions import items, notifications
from actions.models import Notification, Occasion
from reviews import accounts, invitations, team_invitations
from tests.conftest import make_user

# What happens tells people at once: a weekday at noon (the hours: test_reminder_hours.py).
pytestmark = pytest.mark.usefixtures("working_now")


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """Run a block as a request does: its writes commit, its queued jobs run."""

    def run(fn, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(**kwargs)

    return run


def opens(url):
    """The invitation a bell entry's link opens (its token is signed with the time)."""
    match = resolve(url)
    assert match.view_name == "reviews:invitation_accept"
    return invitations.invitation_from_token(match.kwargs["token"])


def bells(user, occasion):
    return list(Notification.objects.filter(user=user, occasion=occasion))


def test_an_owner_set_by_someone_else_gets_a_bell_entry_and_an_email(cast, review, sent):
    action = sent(
        items.action_create,
        workload=cast.workload, session=review, user=cast.admin,
        title="Add a read replica", owner=cast.member,
    )  # fmt: skip
    [bell] = bells(cast.member, Occasion.ACTION_ASSIGNED)
    assert bell.title == "Assigned to you: Add a read replica"
    assert bell.url == reverse("actions:action_detail", args=[action.uuid])
    assert bell.body.startswith("Alice Admin made you the owner of “Add a read replica”")
    assert [m.to for m in mail.outbox] == [["bob@example.com"]]


def test_a_changed_owner_is_told_and_taking_it_yourself_is_not(cast, review, sent):
    action = sent(
        items.action_create, workload=cast.workload, session=review, user=cast.admin, title="Tag"
    )
    assert not Notification.objects.exists()  # no owner yet
    sent(items.action_update, action=action, user=cast.member, changes={"owner": cast.member})
    assert not bells(cast.member, Occasion.ACTION_ASSIGNED)  # took it themselves
    sent(items.action_update, action=action, user=cast.member, changes={"owner": cast.finance})
    assert len(bells(cast.finance, Occasion.ACTION_ASSIGNED)) == 1
    sent(items.action_update, action=action, user=cast.admin, changes={"title": "Tag it"})
    assert len(bells(cast.finance, Occasion.ACTION_ASSIGNED)) == 1  # not an owner change


def test_assignment_notices_follow_the_preference(cast, review, sent):
    notifications.preferences_update(user=cast.member, modes={Occasion.ACTION_ASSIGNED: "off"})
    sent(
        items.action_create,
        workload=cast.workload, session=review, user=cast.admin, title="X", owner=cast.member,
    )  # fmt: skip
    assert not bells(cast.member, Occasion.ACTION_ASSIGNED)
    assert not mail.outbox


def test_an_invitation_to_a_review_reaches_the_bell_of_the_verified_account(cast, review, sent):
    nina = make_user("nina", first_name="Nina")
    accounts.email_verified(user=nina, email=nina.email)
    invitation = sent(
        invitations.invitation_create,
        session=review, user=cast.admin, email="nina@example.com", role="operations",
    )  # fmt: skip
    [bell] = bells(nina, Occasion.SESSION_INVITED)
    assert opens(bell.url) == invitation
    assert "Alice Admin invited you to “Checkout review”" in bell.body
    # One email: the invitation's own, with its link; the bell adds none.
    assert [m.to for m in mail.outbox] == [["nina@example.com"]]


def test_no_bell_for_an_address_no_account_verified(cast, review, sent):
    make_user("nina")  # has the address, never verified it
    sent(
        invitations.invitation_create,
        session=review, user=cast.admin, email="nina@example.com", role="operations",
    )  # fmt: skip
    assert not Notification.objects.exists()


def test_an_invitation_to_a_team_reaches_the_bell_of_the_verified_account(cast, sent):
    accounts.email_verified(user=cast.outsider, email=cast.outsider.email)
    sent(
        team_invitations.team_invitation_create,
        team=cast.team, user=cast.admin, email=cast.outsider.email, role="member",
    )  # fmt: skip
    [bell] = bells(cast.outsider, Occasion.TEAM_INVITED)
    assert bell.title == "You are invited to join Alpha"
    assert bell.url.startswith("/team-invitations/")
    assert len(mail.outbox) == 1


def test_each_new_kind_is_on_the_preferences_page(client, cast):
    client.force_login(cast.member)
    body = client.get(reverse("actions:notification_preferences")).content.decode()
    for occasion in (
        Occasion.SESSION_ADDED,
        Occasion.SESSION_INVITED,
        Occasion.TEAM_INVITED,
        Occasion.ACTION_ASSIGNED,
    ):
        assert occasion in notifications.OCCASIONS
        assert Occasion(occasion).label in body


def test_a_resent_invitation_has_a_bell_entry_with_its_new_link(cast, review, sent):
    nina = make_user("nina")
    accounts.email_verified(user=nina, email=nina.email)
    invitation = sent(
        invitations.invitation_create,
        session=review, user=cast.admin, email="nina@example.com", role="operations",
    )  # fmt: skip
    invitation = sent(invitations.invitation_resend, invitation=invitation)
    newer, older = [n.url for n in bells(nina, Occasion.SESSION_INVITED)]
    assert opens(newer) == invitation
    with pytest.raises(invitations.InvitationError, match="A newer invitation was sent"):
        opens(older)
