"""Property-based tests over the OpenAPI schema (schemathesis), against the API served live
by uvicorn, with a write token: for every operation, requests drawn from the schema (valid
ones, and invalid ones that must be refused with a 4xx) never meet a 5xx, and every
response matches the schema (status code, content type, body).

Path parameters name real objects most of the time (a random uuid is only ever a 404), so
the answers, findings and actions behind them are read and written for real. The number of
examples per operation is bounded (API_PROPERTY_EXAMPLES, default 15) so that the run stays
within about a minute; raise it to search harder."""

from __future__ import annotations

import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from actions.milestones import milestone_create
from actions.models import ActionItem
from tests.api.conftest import make_token

EXAMPLES = int(os.environ.get("API_PROPERTY_EXAMPLES", "15"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def objects(cast, review, finding):
    """Real objects for the path parameters: a review with findings, an action, a milestone."""
    action = ActionItem.objects.create(
        workload=cast.workload, session=review, title="Raise the limits", owner=cast.member
    )
    milestone = milestone_create(workload=cast.workload, user=cast.admin, kind="manual")
    return {
        "workload_uuid": str(cast.workload.uuid),
        "session_uuid": str(review.uuid),
        "question_uuid": str(review.answers.first().question.uuid),
        "finding_uuid": str(finding.uuid),
        "action_uuid": str(action.uuid),
        "milestone_uuid": str(milestone.uuid),
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
)
def test_the_api_keeps_to_its_schema(asgi_server, settings, cast, objects, mode):
    # The rate limit is tested on its own (test_rate_limit.py); here it must not interfere.
    settings.API_RATE_READ = settings.API_RATE_WRITE = "100000/m"
    token = make_token(cast.admin, "write")
    schema = schemathesis.openapi.from_url(f"{asgi_server}/api/schema/")
    headers = {"Authorization": f"Bearer {token}"}
    session = requests.Session()
    checks = CHECKS + ([negative_data_rejection] if mode.is_negative else [])
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 13

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode), real=st.booleans())
        @hypothesis_settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def check(case, real):
            if real and not mode.is_negative and case.path_parameters:
                case.path_parameters = {
                    name: objects.get(name, value) for name, value in case.path_parameters.items()
                }
            case.call_and_validate(
                base_url=asgi_server, session=session, headers=headers, checks=checks
            )

        check()
