"""Adding team members to a review with the picker on the session page: several at once,
each with a session role, all or nothing; invitations are for people outside the team."""

import pytest
from django.core import mail
from django.urls import reverse

from actions.models import Notification, Occasion
from reviews import invitations, participants
from reviews.errors import ServiceError
from reviews.eventkinds import EventKind
from reviews.models import Membership, Participant
from tests.conftest import HTMX, make_user

# What happens tells people at once: a weekday at noon (the hours: test_reminder_hours.py).
pytestmark = pytest.mark.usefixtures("working_now")


def add_url(review):
    return reverse("reviews:participants_add", args=[review.uuid])


def roles_of(review):
    return dict(Participant.objects.filter(session=review).values_list("user__username", "role"))


def test_the_picker_offers_the_members_not_taking_part_with_a_role_from_their_team_role(
    cast, review
):
    offered = {c.user.username: c.role for c in participants.candidates(review)}
    # alice facilitates already; bob owns the workload; fay is finance; vic a viewer.
    assert offered == {"bob": "workload_owner", "fay": "finance", "vic": "observer"}


def test_the_facilitator_adds_several_members_at_once_by_plain_form(client, cast, review):
    client.force_login(cast.admin)
    response = client.post(
        add_url(review),
        {
            "member": [cast.member.pk, cast.finance.pk],
            f"role-{cast.member.pk}": "security",
            f"role-{cast.finance.pk}": "finance",
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#participants")
    assert roles_of(review) == {"alice": "facilitator", "bob": "security", "fay": "finance"}
    assert not Participant.objects.get(session=review, user=cast.member).is_guest
    page = client.get(response["Location"]).content.decode()
    assert "Added to the review: Bob Member, Fay Finance." in page


def test_htmx_adding_returns_the_participants_part_without_those_added_in_the_picker(
    client, cast, review
):
    client.force_login(cast.admin)
    response = client.post(
        add_url(review), {"member": [cast.viewer.pk], f"role-{cast.viewer.pk}": "observer"}, **HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="participants"')
    assert "Added to the review: Vic Viewer." in body
    assert f'id="add-{cast.viewer.pk}"' not in body  # no longer offered
    assert f'id="add-{cast.member.pk}"' in body
    assert roles_of(review)["vic"] == "observer"


@pytest.mark.parametrize(
    ("pick", "role", "message"),
    [
        ("outsider", "operations", "Otto Outsider is not a member of Alpha."),
        ("admin", "operations", "Alice Admin already takes part in this review."),
        ("member", "boss", "“boss” is not a role in a review (for Bob Member)."),
    ],
)
def test_a_bad_pick_adds_no_one_and_names_who_or_what(client, cast, review, pick, role, message):
    client.force_login(cast.admin)
    bad = getattr(cast, pick)
    response = client.post(
        add_url(review),
        {
            "member": [cast.finance.pk, bad.pk],
            f"role-{cast.finance.pk}": "finance",
            f"role-{bad.pk}": role,
        },
        **HTMX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert message.replace("“", "&ldquo;").replace("”", "&rdquo;") in body or message in body
    assert 'role="alert"' in body
    # The valid pick is kept, checked, for another try; nothing was added.
    assert f'id="add-{cast.finance.pk}" name="member" value="{cast.finance.pk}" checked' in body
    assert roles_of(review) == {"alice": "facilitator"}


def test_a_bad_pick_by_plain_form_is_a_message_not_an_error_page(client, cast, review):
    client.force_login(cast.admin)
    response = client.post(add_url(review), {}, follow=True)
    assert response.status_code == 200
    assert "Pick at least one team member to add." in response.content.decode()


def test_someone_who_may_not_run_the_session_cannot_add(client, cast, review):
    Participant.objects.create(session=review, user=cast.member, role="operations")
    client.force_login(cast.member)
    response = client.post(
        add_url(review), {"member": [cast.finance.pk], f"role-{cast.finance.pk}": "finance"}
    )
    assert response.status_code == 403
    assert "fay" not in roles_of(review)


def test_the_service_refuses_who_may_not_run_the_session(cast, review):
    with pytest.raises(ServiceError, match="Only the facilitator"):
        participants.participants_add(
            session=review, user=cast.member, picks=[(str(cast.finance.pk), "finance")]
        )


def test_only_those_who_run_the_session_see_the_picker(client, cast, review):
    client.force_login(cast.admin)
    page = client.get(reverse("reviews:session_detail", args=[review.uuid])).content.decode()
    assert "Add team members" in page
    client.force_login(cast.member)
    page = client.get(reverse("reviews:session_detail", args=[review.uuid])).content.decode()
    assert "Add team members" not in page


def test_adding_publishes_the_participants_event(
    cast, review, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        participants.participants_add(
            session=review, user=cast.admin, picks=[(str(cast.member.pk), "operations")]
        )
    assert published(review) == [(EventKind.PARTICIPANTS, {})]


def test_those_added_get_a_bell_entry_and_one_email(
    cast, review, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        participants.participants_add(
            session=review,
            user=cast.admin,
            picks=[(str(cast.member.pk), "operations"), (str(cast.viewer.pk), "observer")],
        )
    bell = Notification.objects.get(user=cast.member, occasion=Occasion.SESSION_ADDED)
    assert bell.title == "You take part in the Checkout review"
    assert bell.url == reverse("reviews:session_detail", args=[review.uuid])
    assert bell.body == "Alice Admin added you to “Checkout review” as operations."
    assert Notification.objects.filter(user=cast.viewer, occasion=Occasion.SESSION_ADDED).exists()
    assert sorted(m.to[0] for m in mail.outbox) == ["bob@example.com", "vic@example.com"]
    assert not Notification.objects.filter(user=cast.admin).exists()


def test_the_invitation_form_sends_team_members_to_the_picker(client, cast, review):
    client.force_login(cast.admin)
    response = client.post(
        reverse("reviews:invitation_create", args=[review.uuid]),
        {"email": "BOB@example.com", "role": "operations"},
        follow=True,
    )
    assert "is a member of the team: add them under Participants" in response.content.decode()
    assert not review.invitations.exists()


def test_someone_outside_the_team_is_still_invited(cast, review):
    newcomer = make_user("nina")
    invitation = invitations.invitation_create(
        session=review, user=cast.admin, email=newcomer.email, role="operations"
    )
    assert invitation.email == "nina@example.com"
    assert not Membership.objects.filter(user=newcomer).exists()
