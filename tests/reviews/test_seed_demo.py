from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command

from reviews.models import Membership, Participant, ReviewSession, Team, Workload


def test_seed_demo_is_idempotent_and_prints_the_logins(lenses, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"  # as `make run`
    out = StringIO()
    call_command("seed_demo", stdout=out)
    counts = [
        m.objects.count()
        for m in (Team, get_user_model(), Membership, Workload, ReviewSession, Participant)
    ]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert "printed in this terminal" not in again.getvalue(), "only where it is true"
    assert [
        m.objects.count()
        for m in (Team, get_user_model(), Membership, Workload, ReviewSession, Participant)
    ] == counts
    assert counts == [1, 5, 5, 1, 1, 5]
    text = out.getvalue()
    assert "http://127.0.0.1:8000" in text and "fiona" in text and "pillarwise-demo" in text
    assert "sam" in text and "Security" in text
    assert "printed in this terminal" in text  # the embedded default's console email
    session = ReviewSession.objects.get()
    assert session.phase == "preparation" and session.review_starts_at is not None
    assert {p.role for p in session.participants.all()} == {
        "facilitator",
        "workload_owner",
        "operations",
        "security",
        "finance",
    }
    assert get_user_model().objects.get(username="fred").memberships.get().role == "finance"
