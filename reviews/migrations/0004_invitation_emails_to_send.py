"""Invitations whose email was never sent (still open, not expired) get the job row of
their current link, so the sweep sends them."""

from django.db import migrations
from django.utils import timezone


def forward(apps, schema_editor):
    Invitation = apps.get_model("reviews", "Invitation")
    InvitationEmail = apps.get_model("reviews", "InvitationEmail")
    now = timezone.now()
    unsent = Invitation.objects.filter(
        sent_at__isnull=True,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=now,
    )
    InvitationEmail.objects.bulk_create(
        [
            InvitationEmail(invitation=invitation, nonce=invitation.nonce, next_attempt_at=now)
            for invitation in unsent
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("reviews", "0003_invitation_email_jobs")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
