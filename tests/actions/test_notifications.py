"""In-app notifications (the bell, the list) and notification preferences."""

from __future__ import annotations

import pytest
from django.urls import reverse

from actions import notifications
from actions.models import Notification, NotificationPreference, Occasion


def notify(user, n: int = 1, **fields) -> list[Notification]:
    return [
        Notification.objects.create(
            user=user,
            occasion=fields.get("occasion", Occasion.ACTION_DUE),
            title=fields.get("title", f"Due tomorrow: action {i}"),
            body="Enable multi-AZ (Checkout) is due tomorrow, 40% done.",
            url=fields.get("url", "/workloads/"),
        )
        for i in range(n)
    ]


# --- The bell --------------------------------------------------------------------------------


def test_the_bell_shows_the_unread_count(client, cast):
    notify(cast.member, 3)
    notify(cast.admin, 5)
    Notification.objects.filter(pk=notify(cast.member)[0].pk).update(read_at="2027-01-01T00:00Z")
    client.force_login(cast.member)
    body = client.get(reverse("reviews:workload_list")).content.decode()
    assert (
        '<span id="bell-count" class="count">3<span class="sr-only"> unread</span></span>' in body
    )
    assert reverse("actions:notification_preferences") in body


def test_the_bell_is_empty_and_hidden_with_nothing_unread(client, cast):
    client.force_login(cast.member)
    body = client.get(reverse("reviews:workload_list")).content.decode()
    assert '<span id="bell-count" class="count" hidden>0' in body


def test_the_bell_caps_the_count(client, cast):
    notify(cast.member, 120)
    client.force_login(cast.member)
    assert ">99+<" in client.get(reverse("actions:notifications")).content.decode()


def test_the_bell_costs_one_query(rf, cast, django_assert_num_queries):
    from actions.context_processors import notifications as bell

    request = rf.get("/")
    request.user = cast.member
    context = bell(request)
    with django_assert_num_queries(1):
        assert int(str(context["unread_notifications"])) == 0
        assert not context["unread_notifications"]


# --- The list --------------------------------------------------------------------------------


def test_the_list_shows_my_notifications_newest_first(client, cast):
    notify(cast.member, title="Older")
    notify(cast.member, title="Newer")
    notify(cast.admin, title="Not mine")
    client.force_login(cast.member)
    body = client.get(reverse("actions:notifications")).content.decode()
    assert body.index("Newer") < body.index("Older")
    assert "Not mine" not in body
    assert "2 unread" in body


def test_the_unread_filter(client, cast):
    [read] = notify(cast.member, title="Read one")
    notifications.notifications_mark_read(user=cast.member, notification=read)
    notify(cast.member, title="Unread one")
    client.force_login(cast.member)
    body = client.get(reverse("actions:notifications"), {"show": "unread"}).content.decode()
    assert "Unread one" in body and "Read one" not in body


def test_empty_states(client, cast):
    client.force_login(cast.member)
    assert "No notifications yet." in client.get(reverse("actions:notifications")).content.decode()
    body = client.get(reverse("actions:notifications"), {"show": "unread"}).content.decode()
    assert "Nothing unread." in body


def test_the_list_is_paginated_with_a_flat_query_count(client, cast, django_assert_max_num_queries):
    notify(cast.member, 75)
    client.force_login(cast.member)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("actions:notifications"), {"page": 2})
    body = response.content.decode()
    assert "Page 2 of 3" in body and "Newer" in body and "Older" in body


def test_opening_a_notification_by_post_marks_it_read_and_goes_to_its_page(client, cast):
    [notification] = notify(cast.member, url="/workloads/")
    client.force_login(cast.member)
    response = client.post(reverse("actions:notification_open", args=[notification.uuid]))
    assert response.status_code == 302 and response["Location"] == "/workloads/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_following_a_notification_by_get_leaves_it_unread(client, cast):
    [notification] = notify(cast.member, url="/workloads/")
    client.force_login(cast.member)
    response = client.get(reverse("actions:notification_open", args=[notification.uuid]))
    assert response.status_code == 302 and response["Location"] == "/workloads/"
    notification.refresh_from_db()
    assert notification.read_at is None


def test_the_list_opens_notifications_by_post(client, cast):
    [notification] = notify(cast.member, url="/workloads/")
    client.force_login(cast.member)
    body = client.get(reverse("actions:notifications")).content.decode()
    opener = reverse("actions:notification_open", args=[notification.uuid])
    assert f'method="post" action="{opener}"' in body
    notification.refresh_from_db()
    assert notification.read_at is None


def test_opening_never_redirects_off_site(client, cast):
    [notification] = notify(cast.member, url="https://evil.example.com/")
    client.force_login(cast.member)
    response = client.get(reverse("actions:notification_open", args=[notification.uuid]))
    assert response["Location"] == reverse("actions:notifications")


def test_marking_one_read_with_htmx_updates_it_and_the_bell(client, cast):
    notify(cast.member, 2)
    notification = Notification.objects.filter(user=cast.member).first()
    client.force_login(cast.member)
    response = client.post(
        reverse("actions:notification_read", args=[notification.uuid]), HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert f'id="n-{notification.uuid}"' in body and "Mark read" not in body
    assert 'id="bell-count" class="count" hx-swap-oob="true">1<' in body
    assert Notification.objects.filter(user=cast.member, read_at__isnull=True).count() == 1


def test_marking_one_read_without_htmx_redirects(client, cast):
    [notification] = notify(cast.member)
    client.force_login(cast.member)
    response = client.post(reverse("actions:notification_read", args=[notification.uuid]))
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_marking_all_read(client, cast):
    notify(cast.member, 4)
    notify(cast.admin, 2)
    client.force_login(cast.member)
    response = client.post(reverse("actions:notifications_read_all"), follow=True)
    assert "4 notifications marked as read." in response.content.decode()
    assert not Notification.objects.filter(user=cast.member, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=cast.admin, read_at__isnull=True).count() == 2


def test_someone_elses_notification_is_404(client, cast):
    [notification] = notify(cast.admin)
    client.force_login(cast.member)
    assert (
        client.get(reverse("actions:notification_open", args=[notification.uuid])).status_code
        == 404
    )
    assert (
        client.post(reverse("actions:notification_read", args=[notification.uuid])).status_code
        == 404
    )
    notification.refresh_from_db()
    assert notification.read_at is None


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("actions:notifications", "post"),
        ("actions:notifications_read_all", "get"),
        ("actions:notification_preferences", "put"),
    ],
)
def test_wrong_methods(client, cast, name, method):
    client.force_login(cast.member)
    assert getattr(client, method)(reverse(name)).status_code == 405


def test_wrong_methods_on_one_notification(client, cast):
    [notification] = notify(cast.member)
    client.force_login(cast.member)
    assert (
        client.put(reverse("actions:notification_open", args=[notification.uuid])).status_code
        == 405
    )
    assert (
        client.get(reverse("actions:notification_read", args=[notification.uuid])).status_code
        == 405
    )


def test_pages_need_a_signed_in_user(client, cast):
    response = client.get(reverse("actions:notifications"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- Preferences -----------------------------------------------------------------------------


def test_preferences_default_to_email_and_app(client, cast):
    client.force_login(cast.member)
    response = client.get(reverse("actions:notification_preferences"))
    body = response.content.decode()
    assert body.count('value="email_and_app"') == len(notifications.OCCASIONS)
    form = response.context["form"]
    assert {form[o].value() for o in notifications.OCCASIONS} == {"email_and_app"}
    assert "Preparation not done" in body and "Risk acceptance expiring" in body
    assert "Create my calendar link" in body


def test_saving_preferences(client, cast):
    client.force_login(cast.member)
    data = dict.fromkeys(notifications.OCCASIONS, "email_and_app")
    data[Occasion.ACTION_OVERDUE] = "weekly_digest"
    data[Occasion.REVIEW_TOMORROW] = "off"
    response = client.post(reverse("actions:notification_preferences"), data)
    assert response.status_code == 302
    assert notifications.preference_mode(cast.member.pk, Occasion.ACTION_OVERDUE) == "weekly_digest"
    assert notifications.preference_mode(cast.member.pk, Occasion.REVIEW_TOMORROW) == "off"
    assert notifications.preference_mode(cast.admin.pk, Occasion.REVIEW_TOMORROW) == "email_and_app"
    data[Occasion.ACTION_OVERDUE] = "app_only"
    client.post(reverse("actions:notification_preferences"), data)
    assert NotificationPreference.objects.filter(user=cast.member).count() == len(data)
    assert notifications.preferences_for(cast.member)[Occasion.ACTION_OVERDUE] == "app_only"


def test_a_bad_preference_is_refused_and_nothing_is_saved(client, cast):
    client.force_login(cast.member)
    data = dict.fromkeys(notifications.OCCASIONS, "off")
    data[Occasion.ACTION_DUE] = "carrier_pigeon"
    response = client.post(reverse("actions:notification_preferences"), data)
    assert response.status_code == 200
    assert "Select a valid choice" in response.context["form"].errors[Occasion.ACTION_DUE][0]
    assert not NotificationPreference.objects.exists()


def test_a_user_without_email_is_told_reminders_stay_in_the_app(client, cast):
    cast.member.email = ""
    cast.member.save(update_fields=["email"])
    client.force_login(cast.member)
    body = client.get(reverse("actions:notification_preferences")).content.decode()
    assert "Your account has no email address" in body
