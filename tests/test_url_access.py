"""Every URL that names a team's object answers 404 to a signed-in user of another team.

OUTSIDER_URLS lists a way to build each such URL; the first test fails when a view is added
without being listed here, so that no access rule goes untested."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from reviews.models import Membership

# URLs whose objects are not a team's (the lens library is shared by everyone).
SHARED_URLS = {"questionnaires:lens_detail", "questionnaires:lens_export"}


def member_pk(cast):
    return Membership.objects.get(team=cast.team, user=cast.viewer).pk


def facilitator_pk(review):
    return review.participants.get().pk


def invitation_uuid(review, cast):
    from django.utils import timezone

    from reviews.models import Invitation

    invitation = Invitation.objects.create(
        session=review, email="x@example.com", role="observer", expires_at=timezone.now()
    )
    return invitation.uuid


def team_invitation_uuid(cast):
    from django.utils import timezone

    from reviews.models import TeamInvitation

    return TeamInvitation.objects.create(
        team=cast.team, email="x@example.com", role="viewer", expires_at=timezone.now()
    ).uuid


def parking_uuid(review, cast):
    from reviews.models import ParkingLotItem

    return ParkingLotItem.objects.create(session=review, text="later", created_by=cast.admin).uuid


def question_uuid(review):
    return review.answers.select_related("question").first().question.uuid


def finding_uuid(review):
    from actions.models import Finding

    question = review.answers.first().question
    return Finding.objects.get_or_create(session=review, question=question, risk="HIGH")[0].uuid


def action_uuid(review, cast):
    from actions.models import ActionItem

    return ActionItem.objects.create(workload=cast.workload, session=review, title="x").uuid


def plan_document_uuid(review):
    from actions.models import PlanDocument

    return PlanDocument.objects.create(
        session=review, version=1, status="done", file="plans/checkout-v1.pdf"
    ).uuid


def notification_uuid(cast):
    from actions.models import Notification

    return Notification.objects.create(user=cast.member, occasion="action_due", title="x").uuid


def follow_up_uuid(review):
    from datetime import date

    from actions.models import FollowUp

    return FollowUp.objects.get_or_create(session=review, number=1, due_on=date(2030, 1, 1))[0].uuid


OUTSIDER_URLS = {
    "reviews:workload_detail": lambda c, r: [c.workload.uuid],
    "reviews:workload_edit": lambda c, r: [c.workload.uuid],
    "reviews:team_detail": lambda c, r: [c.team.uuid],
    "reviews:member_role": lambda c, r: [c.team.uuid, member_pk(c)],
    "reviews:member_remove": lambda c, r: [c.team.uuid, member_pk(c)],
    "reviews:team_invitation_revoke": lambda c, r: [c.team.uuid, team_invitation_uuid(c)],
    "reviews:session_detail": lambda c, r: [r.uuid],
    "reviews:session_create": lambda c, r: [c.workload.uuid],
    "reviews:session_fragment": lambda c, r: [r.uuid, "participants"],
    "reviews:session_schedule": lambda c, r: [r.uuid],
    "reviews:session_phase": lambda c, r: [r.uuid],
    "reviews:session_reopen": lambda c, r: [r.uuid],
    "reviews:session_checklist": lambda c, r: [r.uuid],
    "reviews:session_budgets": lambda c, r: [r.uuid],
    "reviews:participant_role": lambda c, r: [r.uuid, facilitator_pk(r)],
    "reviews:participant_remove": lambda c, r: [r.uuid, facilitator_pk(r)],
    "reviews:invitation_create": lambda c, r: [r.uuid],
    "reviews:invitation_resend": lambda c, r: [r.uuid, invitation_uuid(r, c)],
    "reviews:invitation_revoke": lambda c, r: [r.uuid, invitation_uuid(r, c)],
    "reviews:session_live": lambda c, r: [r.uuid],
    "reviews:session_events": lambda c, r: [r.uuid],
    "reviews:focus": lambda c, r: [r.uuid],
    "reviews:follow": lambda c, r: [r.uuid],
    "reviews:parking_add": lambda c, r: [r.uuid],
    "reviews:parking_dismiss": lambda c, r: [r.uuid, parking_uuid(r, c)],
    "reviews:question": lambda c, r: [r.uuid, question_uuid(r)],
    "reviews:question_fragment": lambda c, r: [r.uuid, question_uuid(r), "choices"],
    "reviews:question_history": lambda c, r: [r.uuid, question_uuid(r)],
    "reviews:choice_toggle": lambda c, r: [
        r.uuid,
        question_uuid(r),
        "ops_priorities_ext_cust_needs",
    ],
    "reviews:choice_applicability": lambda c, r: [
        r.uuid,
        question_uuid(r),
        "ops_priorities_ext_cust_needs",
    ],
    "reviews:answer_form": lambda c, r: [r.uuid, question_uuid(r)],
    "reviews:applicability": lambda c, r: [r.uuid, question_uuid(r)],
    "reviews:notes_save": lambda c, r: [r.uuid, question_uuid(r)],
    "reviews:blind": lambda c, r: [r.uuid, question_uuid(r), "open"],
    # Analysis, action items, the plan, milestones
    "actions:analysis": lambda c, r: [r.uuid],
    "actions:findings_sync": lambda c, r: [r.uuid],
    "actions:finding_rate": lambda c, r: [finding_uuid(r)],
    "actions:finding_move": lambda c, r: [finding_uuid(r)],
    "actions:finding_accept": lambda c, r: [finding_uuid(r)],
    "actions:finding_revoke": lambda c, r: [finding_uuid(r)],
    "actions:action_from_practice": lambda c, r: [finding_uuid(r)],
    "actions:parking_to_action": lambda c, r: [parking_uuid(r, c)],
    "actions:parking_dismiss": lambda c, r: [parking_uuid(r, c)],
    "actions:action_create": lambda c, r: [r.uuid],
    "actions:action_detail": lambda c, r: [action_uuid(r, c)],
    "actions:action_edit": lambda c, r: [action_uuid(r, c)],
    "actions:action_reassign": lambda c, r: [action_uuid(r, c)],
    "actions:action_comment": lambda c, r: [action_uuid(r, c)],
    "actions:action_progress": lambda c, r: [action_uuid(r, c)],
    "actions:plan": lambda c, r: [r.uuid],
    "actions:plan_publish": lambda c, r: [r.uuid],
    "actions:aws_export": lambda c, r: [r.uuid],
    # The action-plan PDF
    "actions:plan_documents": lambda c, r: [r.uuid],
    "actions:plan_document_download": lambda c, r: [r.uuid, plan_document_uuid(r)],
    "actions:plan_document_retry": lambda c, r: [r.uuid, plan_document_uuid(r)],
    "actions:workload_panel": lambda c, r: [c.workload.uuid],
    "actions:milestone_create": lambda c, r: [c.workload.uuid],
    "actions:milestone_compare": lambda c, r: [c.workload.uuid],
    # The cadence: the workload's cadence, notifications, follow-ups
    "reviews:workload_cadence": lambda c, r: [c.workload.uuid],
    "reviews:incident_record": lambda c, r: [c.workload.uuid],
    "actions:notification_open": lambda c, r: [notification_uuid(c)],
    "actions:notification_read": lambda c, r: [notification_uuid(c)],
    "actions:session_followup": lambda c, r: [r.uuid],
    "actions:followup": lambda c, r: [follow_up_uuid(r)],
    "actions:followup_action": lambda c, r: [follow_up_uuid(r), action_uuid(r, c)],
    "actions:followup_finish": lambda c, r: [follow_up_uuid(r)],
}


def named_urls_with_uuids(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from named_urls_with_uuids(entry, ns)
        elif isinstance(entry, URLPattern) and entry.name and "<uuid:" in str(entry.pattern):
            yield f"{namespace}{entry.name}"


def test_every_url_with_an_object_is_covered():
    uncovered = set(named_urls_with_uuids()) - set(OUTSIDER_URLS) - SHARED_URLS
    assert not uncovered, f"add these to OUTSIDER_URLS: {sorted(uncovered)}"


@pytest.mark.parametrize("name", sorted(OUTSIDER_URLS))
def test_outsider_gets_404(client, cast, review, name):
    url = reverse(name, args=OUTSIDER_URLS[name](cast, review))
    client.force_login(cast.outsider)
    statuses = {
        client.get(url).status_code,
        client.post(url, {"question": question_uuid(review)}).status_code,
    }
    # A view that takes only GET (or only POST) answers the other method with 405 before
    # looking anything up; the method it takes must answer 404.
    assert statuses <= {404, 405} and 404 in statuses, (url, statuses)
