from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from questionnaires.models import Lens
from reviews import sessions
from reviews.models import (
    Membership,
    Participant,
    ParticipantRole,
    ReviewSession,
    SessionKind,
    Team,
    Workload,
    WorkloadType,
)

PASSWORD = "pillarwise-demo"
PEOPLE = [
    # username, full name, team role, session role
    ("fiona", "Fiona Facilitator", Membership.Role.ADMIN, ParticipantRole.FACILITATOR),
    ("oscar", "Oscar Owner", Membership.Role.MEMBER, ParticipantRole.WORKLOAD_OWNER),
    ("olga", "Olga Operations", Membership.Role.MEMBER, ParticipantRole.OPERATIONS),
    ("sam", "Sam Security", Membership.Role.MEMBER, ParticipantRole.SECURITY),
    ("fred", "Fred Finance", Membership.Role.FINANCE, ParticipantRole.FINANCE),
]


class Command(BaseCommand):
    help = "Create the demo team, people, workload and an upcoming review. Safe to run again."

    @transaction.atomic
    def handle(self, *args, **options):
        User = get_user_model()
        team, _ = Team.objects.get_or_create(name="Demo team")
        users = {}
        for username, full_name, team_role, _ in PEOPLE:
            first, last = full_name.split(" ", 1)
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@example.com",
                },
            )
            if created:
                user.set_password(PASSWORD)
                user.save(update_fields=["password"])
            Membership.objects.get_or_create(team=team, user=user, defaults={"role": team_role})
            users[username] = user
        users["fiona"].user_permissions.add(
            Permission.objects.get(codename="add_lens", content_type__app_label="questionnaires")
        )
        workload, _ = Workload.objects.get_or_create(
            team=team,
            name="Checkout",
            defaults={
                "description": "The web shop's checkout: cart, payment and order confirmation.",
                "workload_type": WorkloadType.CRITICAL_ECOMMERCE,
                "is_critical": True,
                "owner": users["oscar"],
                "regions": ["eu-west-1", "eu-central-1"],
                "tags": ["payments", "tier-1"],
                "architecture_url": "https://example.com/diagrams/checkout",
            },
        )
        title = "Checkout: quarterly review"
        session = ReviewSession.objects.filter(workload=workload, title=title).first()
        if session is None:
            start = timezone.localtime() + timedelta(days=10)
            session = sessions.session_create(
                workload=workload,
                user=users["fiona"],
                title=title,
                kind=SessionKind.CRITICAL_QUARTERLY,
                review_starts_at=start.replace(hour=9, minute=30, second=0, microsecond=0),
                lenses=Lens.objects.latest_versions().filter(name="Serverless Lens"),
            )
        for username, _, _, session_role in PEOPLE:
            Participant.objects.get_or_create(
                session=session, user=users[username], defaults={"role": session_role}
            )
        self.stdout.write(
            self.style.SUCCESS("Demo data ready.")
            + f"\n  Open http://127.0.0.1:8000 and sign in as one of (password “{PASSWORD}”):\n"
            + "\n".join(f"    {u:6} {name} ({srole.label})" for u, name, _, srole in PEOPLE)
        )
        if settings.EMAIL_BACKEND.endswith("console.EmailBackend"):
            self.stdout.write(
                "  Emails (invitations with their links, reminders) are printed in this "
                "terminal, not sent."
            )
