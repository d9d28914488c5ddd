"""The plan page and publishing: the gate names what each action lacks; publishing saves
a milestone, asks for the PDF and queues the recap email, sent once."""

from __future__ import annotations

import smtplib
from datetime import date, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from actions import items, plan, tasks
from actions.models import ActionItem, PlanDocument, PlanRecap
from reviews import jobs
from reviews.errors import ServiceError
from reviews.models import Milestone, Phase
from tests.actions.analysis_helpers import analysed, join, move_to

# What happens tells people at once: a weekday at noon (the hours: test_reminder_hours.py).
pytestmark = pytest.mark.usefixtures("working_now")


def url(name, *args):
    return reverse(f"actions:{name}", args=args)


def complete(cast, review, title="Raise the quotas", **fields):
    values = {
        "owner": cast.member,
        "due_on": timezone.localdate() + timedelta(days=20),
        "measurable_outcome": "No quota alarm for a month",
        **fields,
    }
    return items.action_create(
        workload=cast.workload, session=review, user=cast.admin, title=title, **values
    )


@pytest.fixture
def planned(review, cast):
    """The review in the action-plan phase with its findings and one complete action."""
    analysed(review, cast)
    move_to(review, Phase.ACTION_PLAN)
    complete(cast, review)
    return review


# --- The gate -----------------------------------------------------------------------------------


def test_a_plan_without_actions_is_not_publishable():
    (gap,) = plan.plan_gaps([])
    assert gap.action is None and gap.missing == ["at least one action"]


def test_the_gate_names_each_missing_thing_per_action(review, cast):
    move_to(review, Phase.ACTION_PLAN)
    complete(cast, review, title="Complete")
    complete(cast, review, title="No owner", owner=None)
    complete(cast, review, title="Nothing", owner=None, due_on=None, measurable_outcome="  ")
    complete(cast, review, title="No date", due_on=None)
    gaps = {g.action.title: g.missing for g in plan.plan_gaps(plan.plan_actions(review))}
    assert gaps == {
        "No owner": ["an owner"],
        "Nothing": ["an owner", "a due date", "a measurable outcome"],
        "No date": ["a due date"],
    }


def test_cancelled_actions_do_not_count(review, cast):
    move_to(review, Phase.ACTION_PLAN)
    complete(cast, review)
    cancelled = complete(cast, review, title="Dropped", owner=None)
    items.action_update(action=cancelled, user=cast.admin, changes={"status": "cancelled"})
    assert plan.plan_gaps(plan.plan_actions(review)) == []


def test_only_cancelled_actions_is_no_plan(review, cast):
    action = complete(cast, review)
    items.action_update(action=action, user=cast.admin, changes={"status": "cancelled"})
    assert plan.plan_gaps(plan.plan_actions(review))[0].missing == ["at least one action"]


def test_the_plan_page_lists_what_is_missing(client, planned, cast):
    gap = complete(cast, planned, title="Half done", owner=None, measurable_outcome="")
    client.force_login(cast.viewer)
    body = client.get(url("plan", planned.uuid)).content.decode()
    assert "Not ready" in body
    assert "needs an owner, a measurable outcome" in body
    # Each gap links to its row of the table, where it is fixed.
    assert f'href="#action-{gap.uuid}"' in body and f'id="action-{gap.uuid}"' in body
    assert "The facilitator or a team admin publishes the plan." in body


def test_the_plan_page_shows_the_roadmap_by_month_and_the_table(client, planned, cast):
    complete(cast, planned, title="Later", due_on=date(2099, 3, 4))
    complete(cast, planned, title="Undated", due_on=None)
    client.force_login(cast.admin)
    body = client.get(url("plan", planned.uuid)).content.decode()
    assert "March 2099" in body and "No due date yet" in body
    assert body.index("March 2099") < body.index("No due date yet")
    assert "Publish the plan" in body
    assert "needs a due date" in body  # the undated one
    assert body.count('href="/actions/') >= 6  # roadmap and table link every action


def test_roadmap_groups_by_month_and_puts_undated_last(cast, review):
    complete(cast, review, title="A", due_on=date(2099, 5, 30))
    complete(cast, review, title="B", due_on=date(2099, 5, 1))
    complete(cast, review, title="C", due_on=date(2099, 4, 2))
    complete(cast, review, title="D", due_on=None)
    months = plan.roadmap(plan.plan_actions(review))
    assert [(m, [x.title for x in xs]) for m, xs in months] == [
        (date(2099, 4, 1), ["C"]),
        (date(2099, 5, 1), ["B", "A"]),
        (None, ["D"]),
    ]


# --- Publishing ---------------------------------------------------------------------------------


def test_publishing_saves_a_milestone_requests_the_pdf_and_queues_the_recap(
    client, planned, cast, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(tasks.send_plan_recap, "apply_async", lambda args: queued.extend(args))
    monkeypatch.setattr(tasks.generate_plan_document, "apply_async", lambda args: None)
    client.force_login(cast.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("plan_publish", planned.uuid))
    assert response["Location"] == url("plan", planned.uuid)
    planned.refresh_from_db()
    assert planned.plan_published_at is not None
    milestone = Milestone.objects.get(session=planned)
    assert milestone.kind == Milestone.Kind.PUBLISHED and milestone.created_by == cast.admin
    assert milestone.name.startswith("Action plan published")
    assert [a["title"] for a in milestone.snapshot["actions"]] == ["Raise the quotas"]
    assert PlanDocument.objects.filter(session=planned, version=1).exists()
    recap = PlanRecap.objects.get()
    assert queued == [recap.pk] and recap.status == PlanRecap.Status.PENDING
    assert recap.queued_at is not None


def test_publishing_again_makes_a_new_milestone_and_pdf_version(planned, cast):
    plan.plan_publish(session=planned, user=cast.admin)
    complete(cast, planned, title="Another")
    plan.plan_publish(session=planned, user=cast.admin)
    names = list(
        Milestone.objects.filter(session=planned)
        .order_by("created_at")
        .values_list("name", flat=True)
    )
    assert len(names) == 2 and names[1].startswith("Action plan v2 published")
    assert list(PlanDocument.objects.filter(session=planned).values_list("version", flat=True)) == [
        2,
        1,
    ]


def test_publishing_is_refused_while_something_is_missing(client, planned, cast):
    complete(cast, planned, title="No owner", owner=None)
    client.force_login(cast.admin)
    response = client.post(url("plan_publish", planned.uuid), follow=True)
    assert "still lack an owner, a due date or a measurable outcome" in response.content.decode()
    planned.refresh_from_db()
    assert planned.plan_published_at is None
    assert not Milestone.objects.exists() and not PlanRecap.objects.exists()


def test_publishing_needs_an_action(review, cast):
    move_to(review, Phase.ACTION_PLAN)
    with pytest.raises(ServiceError, match="at least one action"):
        plan.plan_publish(session=review, user=cast.admin)


@pytest.mark.parametrize("phase", [Phase.ANALYSIS, Phase.FOLLOW_UP])
def test_publishing_happens_in_the_action_plan_phase(client, planned, cast, phase):
    move_to(planned, phase)
    client.force_login(cast.admin)
    response = client.post(url("plan_publish", planned.uuid), follow=True)
    assert "published in the action-plan phase" in response.content.decode()
    assert not Milestone.objects.exists()


@pytest.mark.parametrize("who", ["member", "finance", "viewer"])
def test_only_the_facilitator_or_an_admin_publishes(client, planned, cast, who):
    client.force_login(getattr(cast, who))
    assert client.post(url("plan_publish", planned.uuid)).status_code == 403
    assert not Milestone.objects.exists()


def test_a_team_admin_who_is_not_the_facilitator_may_publish(client, planned, cast):
    from reviews.models import Participant

    Participant.objects.filter(session=planned, user=cast.admin).update(role="observer")
    join(planned, cast.member, "facilitator")
    client.force_login(cast.member)
    assert client.post(url("plan_publish", planned.uuid)).status_code == 302
    assert Milestone.objects.count() == 1


def test_outsider_and_wrong_method(client, planned, cast):
    client.force_login(cast.outsider)
    assert client.get(url("plan", planned.uuid)).status_code == 404
    assert client.post(url("plan_publish", planned.uuid)).status_code == 404
    client.force_login(cast.admin)
    assert client.post(url("plan", planned.uuid)).status_code == 405
    assert client.get(url("plan_publish", planned.uuid)).status_code == 405


# --- The recap email ----------------------------------------------------------------------------


def test_the_recap_names_attendees_key_findings_actions_and_next_steps(planned, cast):
    cast.workload.next_review_due_on = date(2099, 6, 1)
    cast.workload.save(update_fields=["next_review_due_on"])
    join(planned, cast.member, "workload_owner", confirmed_attendance=True)
    join(planned, cast.finance, "finance")  # invited but did not confirm
    context, recipients = plan.recap_context(planned, published_on=date(2099, 1, 31))
    assert recipients == ["alice@example.com", "bob@example.com", "fay@example.com"]
    assert [a["name"] for a in context["attendees"]] == ["Bob Member"]
    assert context["attendance_confirmed"]
    assert [f["title"] for f in context["key_findings"]][0].startswith("How do you stay ahead")
    assert context["actions"][0]["owner"] == "Bob Member"
    assert context["next_steps"][1:] == [
        {"label": "Next follow-up", "date": "28 February 2099"},
        {"label": "Next review due", "date": "1 June 2099"},
    ]


def test_without_confirmations_every_participant_is_listed(planned, cast):
    join(planned, cast.member, "workload_owner")
    context, _ = plan.recap_context(planned, published_on=date(2099, 1, 1))
    assert not context["attendance_confirmed"]
    assert {a["name"] for a in context["attendees"]} == {"Alice Admin", "Bob Member"}


def test_key_findings_are_the_top_five_by_priority(review, cast):
    risks = dict.fromkeys(
        (
            "priorities",
            "ops-model",
            "identities",
            "securely-operate",
            "manage-service-limits",
            "planning-network-topology",
            "govern-usage",
        ),
        "HIGH",
    )
    analysed(review, cast, risks)
    context, _ = plan.recap_context(review, published_on=date(2099, 1, 1))
    assert len(context["key_findings"]) == 5 and context["finding_count"] == 7
    pillars = [f["pillar"] for f in context["key_findings"]]
    assert pillars[:2] == ["Reliability", "Reliability"]  # critical e-commerce: reliability first


def test_the_recap_is_sent_once_however_often_the_task_runs(planned, cast):
    plan.plan_publish(session=planned, user=cast.admin)
    recap = PlanRecap.objects.get()
    tasks.send_plan_recap.run(recap.pk)
    tasks.send_plan_recap.run(recap.pk)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert "Action plan published: Checkout" in message.subject
    assert "Raise the quotas" in message.body and "Bob Member" in message.body
    assert "Next follow-up" in message.body
    html = message.alternatives[0][0]
    assert "Raise the quotas" in html and "Open the plan and its PDF" in html
    recap.refresh_from_db()
    assert recap.status == PlanRecap.Status.DONE and recap.sent_at and recap.attempts == 1


def test_mail_server_trouble_is_retried_after_a_backoff_then_fails(planned, cast, monkeypatch):
    plan.plan_publish(session=planned, user=cast.admin)
    recap = PlanRecap.objects.get()

    def refuse(**kwargs):
        raise smtplib.SMTPConnectError(421, "try later")

    monkeypatch.setattr(plan, "send_email", refuse)
    assert plan.plan_recap_send(recap_id=recap.pk) is False
    recap.refresh_from_db()
    assert recap.status == PlanRecap.Status.PENDING and "try later" in recap.last_error
    assert recap.next_attempt_at > timezone.now()
    assert plan.plan_recap_send(recap_id=recap.pk) is False, "not before the backoff"
    assert PlanRecap.objects.get().attempts == 1
    PlanRecap.objects.filter(pk=recap.pk).update(
        attempts=recap.max_attempts - 1, next_attempt_at=timezone.now()
    )
    assert plan.plan_recap_send(recap_id=recap.pk) is False
    recap.refresh_from_db()
    assert recap.status == PlanRecap.Status.FAILED and recap.is_exhausted


def test_a_template_error_fails_the_recap_with_its_message(planned, cast, monkeypatch):
    plan.plan_publish(session=planned, user=cast.admin)
    recap = PlanRecap.objects.get()
    monkeypatch.setattr(plan, "send_email", lambda **kw: (_ for _ in ()).throw(KeyError("x")))
    assert plan.plan_recap_send(recap_id=recap.pk) is False
    recap.refresh_from_db()
    assert recap.status == PlanRecap.Status.FAILED and "KeyError" in recap.last_error
    assert recap.attempts == 1 and not recap.is_exhausted


def test_the_sweep_requeues_recaps_a_lost_message_left_behind(
    planned, cast, monkeypatch, django_capture_on_commit_callbacks
):
    plan.plan_publish(session=planned, user=cast.admin)
    recap = PlanRecap.objects.get()
    queued = []
    monkeypatch.setattr(tasks.send_plan_recap, "apply_async", lambda args: queued.extend(args))

    def sweep() -> list[int]:
        with django_capture_on_commit_callbacks(execute=True):
            return jobs.job_sweep(PlanRecap).requeued

    assert sweep() == [], "just queued: not lost yet"
    PlanRecap.objects.filter(pk=recap.pk).update(queued_at=timezone.now() - timedelta(minutes=30))
    assert sweep() == [recap.pk] and queued == [recap.pk]
    plan.plan_recap_send(recap_id=recap.pk)
    PlanRecap.objects.filter(pk=recap.pk).update(queued_at=timezone.now() - timedelta(minutes=30))
    assert sweep() == [], "sent: nothing to do"


def test_a_running_recap_is_claimed_again_only_once_its_lease_expired(planned, cast):
    plan.plan_publish(session=planned, user=cast.admin)
    recap = PlanRecap.objects.get()
    PlanRecap.objects.filter(pk=recap.pk).update(
        status=PlanRecap.Status.RUNNING,
        attempts=1,
        started_at=timezone.now(),
        lease_expires_at=timezone.now() + timedelta(seconds=30),
    )
    assert plan.plan_recap_send(recap_id=recap.pk) is False, "its worker may be alive"
    PlanRecap.objects.filter(pk=recap.pk).update(lease_expires_at=timezone.now())
    assert plan.plan_recap_send(recap_id=recap.pk) is True
    assert len(mail.outbox) == 1 and PlanRecap.objects.get().attempts == 2


def test_no_recap_without_recipients(planned, cast):
    cast.admin.email = ""
    cast.admin.save(update_fields=["email"])
    plan.plan_publish(session=planned, user=cast.admin)
    assert not PlanRecap.objects.exists()
    assert ActionItem.objects.count() == 1


def test_a_ready_plan_offers_the_publish_button(client, planned, cast):
    client.force_login(cast.admin)
    body = client.get(url("plan", planned.uuid)).content.decode()
    assert "Every action has an owner, a due date and a measurable outcome." in body
    assert '<button type="submit" class="btn-primary">Publish the plan</button>' in body


def test_the_plan_page_links_the_pdf_versions(client, planned, cast):
    plan.plan_publish(session=planned, user=cast.admin)
    client.force_login(cast.member)
    body = client.get(url("plan", planned.uuid)).content.decode()
    assert body.count(url("plan_documents", planned.uuid)) == 2


def test_the_recap_goes_to_each_recipient_alone_with_its_bell_entry(planned, cast):
    from actions.models import Notification, NotificationPreference
    from reviews.models import Participant

    Participant.objects.create(session=planned, user=cast.member, role="workload_owner")
    Participant.objects.create(session=planned, user=cast.viewer, role="observer")
    NotificationPreference.objects.create(user=cast.viewer, occasion="plan_published", mode="off")
    NotificationPreference.objects.create(
        user=cast.member, occasion="plan_published", mode="app_only"
    )
    plan.plan_publish(session=planned, user=cast.admin)
    tasks.send_plan_recap.run(PlanRecap.objects.get().pk)
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    bell = sorted(
        Notification.objects.filter(occasion="plan_published").values_list("user__username", "url")
    )
    path = reverse("actions:plan", args=[planned.uuid])
    assert bell == [("alice", path), ("bob", path)]  # vic turned it off


def test_the_recap_retried_after_a_mail_error_sends_only_the_rest(planned, cast, monkeypatch):
    from reviews.models import Participant

    Participant.objects.create(session=planned, user=cast.member, role="workload_owner")
    plan.plan_publish(session=planned, user=cast.admin)
    recap = PlanRecap.objects.get()
    send = plan.send_email

    def second_fails(**kwargs):
        if kwargs["to"] == ["bob@example.com"]:
            raise smtplib.SMTPServerDisconnected("gone")
        send(**kwargs)

    monkeypatch.setattr(plan, "send_email", second_fails)
    assert plan.plan_recap_send(recap_id=recap.pk) is False
    monkeypatch.setattr(plan, "send_email", send)
    PlanRecap.objects.filter(pk=recap.pk).update(next_attempt_at=timezone.now())
    assert plan.plan_recap_send(recap_id=recap.pk) is True
    assert [m.to for m in mail.outbox] == [["alice@example.com"], ["bob@example.com"]]
