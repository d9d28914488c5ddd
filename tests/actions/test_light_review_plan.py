"""A light review goes through analysis, the action plan and its PDF like a full review,
with findings for its own short questionnaire only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from actions import pdf
from actions.items import action_create
from actions.models import Finding, PlanDocument
from actions.plan import plan_publish
from reviews.jobs import JobStatus
from reviews.models import Phase
from reviews.sessions import session_move
from tests.actions.analysis_helpers import set_risk
from tests.actions.pdf_helpers import pdf_text
from tests.reviews.light_helpers import HIGH, OPEN, finding_idents, hold_full_review, plan_light

pytestmark = pytest.mark.usefixtures("media_root")


def test_a_light_reviews_analysis_plan_and_pdf_work(client, cast, review):
    hold_full_review(cast, review)
    light = plan_light(cast)
    session_move(session=light, user=cast.admin, to_phase=Phase.REVIEW)
    # The team says the quotas are now partly watched: high becomes medium.
    set_risk(light, HIGH, "MEDIUM", cast.admin)

    session_move(session=light, user=cast.admin, to_phase=Phase.ANALYSIS)

    assert finding_idents(light) == {HIGH, OPEN}
    assert Finding.objects.get(session=light, question__ident=HIGH).risk == "MEDIUM"
    client.force_login(cast.admin)
    analysis = client.get(reverse("actions:analysis", args=[light.uuid]))
    assert analysis.status_code == 200

    finding = Finding.objects.get(session=light, question__ident=HIGH)
    action = action_create(
        workload=cast.workload,
        user=cast.admin,
        session=light,
        finding=finding,
        title="Alarm on service quotas at 80%",
        owner=cast.member,
        due_on=timezone.localdate() + timedelta(days=30),
        measurable_outcome="An alarm fires in the quota drill",
    )
    session_move(session=light, user=cast.admin, to_phase=Phase.ACTION_PLAN)
    plan_publish(session=light, user=cast.admin)
    assert client.get(reverse("actions:plan", args=[light.uuid])).status_code == 200

    document = PlanDocument.objects.get(session=light)
    pdf.plan_document_generate(document_id=document.pk)
    document.refresh_from_db()
    assert document.status == JobStatus.DONE
    text = pdf_text(default_storage.open(document.file.name).read())
    assert light.title in text and action.title in text
