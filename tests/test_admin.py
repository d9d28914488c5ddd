"""The Django admin: every model of ours is registered, and each one's list, add and change
pages render for a superuser."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from reviews import answers, parking
from tests.actions.analysis_helpers import analysed
from tests.actions.cadence_helpers import make_action
from tests.conftest import make_user

APPS = ["questionnaires", "reviews", "actions"]
MODELS = [model for app in APPS for model in apps.get_app_config(app).get_models()]


def label(model) -> str:
    return f"{model._meta.app_label}.{model.__name__}"


@pytest.mark.parametrize("model", MODELS, ids=label)
def test_every_model_is_in_the_admin(model):
    assert model in admin.site._registry


@pytest.fixture
def superuser_client(client, db):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def populated(cast, review):
    """A review with a little of everything the live session writes."""
    answer = review.answers.select_related("question").first()
    answers.answer_save_notes(answer=answer, user=cast.admin, text="Some notes", base_revision=0)
    parking.parking_add(session=review, user=cast.admin, text="Look at backups")
    analysed(review, cast)
    make_action(review, cast.member)
    return review


@pytest.mark.parametrize("model", MODELS, ids=label)
def test_admin_pages_render(superuser_client, populated, model):
    opts = model._meta
    base = f"admin:{opts.app_label}_{opts.model_name}"
    assert superuser_client.get(reverse(f"{base}_changelist")).status_code == 200
    assert superuser_client.get(reverse(f"{base}_add")).status_code == 200
    instance = model.objects.order_by("pk").first()
    if instance is not None:
        response = superuser_client.get(reverse(f"{base}_change", args=[instance.pk]))
        assert response.status_code == 200
