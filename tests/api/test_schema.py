"""The OpenAPI schema at /api/schema/ and the docs page, served from our own origin under
the Content-Security-Policy; and every API operation with an object in its path answers an
outsider's token with 404."""

from __future__ import annotations

import re
import uuid

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from actions.api.main import api
from actions.models import ActionItem, Finding
from tests.api.conftest import ApiClient, make_token

pytestmark = pytest.mark.django_db


def test_the_schema_is_openapi_3_and_needs_no_token(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/workloads", "/api/sessions/{session_uuid}/answers/{question_uuid}"} <= set(
        schema["paths"]
    )
    assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            assert operation["security"] == [{"TokenAuth": []}], (method, path)
            assert {"400", "401", "404", "429"} <= set(operation["responses"]), (method, path)


def test_the_docs_page_loads_its_scripts_from_our_origin_and_runs_none_inline(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    html = response.content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    for attributes, _body in scripts:
        if "src=" in attributes:
            assert re.search(r'src="/static/', attributes), attributes
        else:
            # A data block (the settings), which the browser never runs.
            assert 'type="application/json"' in attributes, attributes
    assert "cdn" not in html.lower()
    # Shipped with the app's static files (collectstatic finds them).
    for path in re.findall(r'(?:src|href)="/static/([^"]+)"', html):
        assert finders.find(path), path


def test_the_tokens_page_links_the_docs_and_schema(cast, client):
    client.force_login(cast.admin)
    html = client.get(reverse("api:tokens")).content.decode()
    assert 'href="/api/docs/"' in html and 'href="/api/schema/"' in html


def _path_objects(cast, review) -> dict[str, str]:
    finding = Finding.objects.create(session=review, question=review.answers.first().question)
    action = ActionItem.objects.create(workload=cast.workload, session=review, title="x")
    from actions.milestones import milestone_create

    milestone = milestone_create(workload=cast.workload, user=cast.admin, kind="manual")
    return {
        "workload_uuid": str(cast.workload.uuid),
        "session_uuid": str(review.uuid),
        "question_uuid": str(review.answers.first().question.uuid),
        "finding_uuid": str(finding.uuid),
        "action_uuid": str(action.uuid),
        "milestone_uuid": str(milestone.uuid),
    }


def test_every_operation_on_an_object_answers_the_outsider_404(cast, review):
    objects = _path_objects(cast, review)
    outsider = ApiClient(make_token(cast.outsider, "write"))
    member = ApiClient(make_token(cast.admin, "read"))
    checked = 0
    for path, methods in api.get_openapi_schema()["paths"].items():
        names = re.findall(r"{(\w+)}", path)
        if not names:
            continue
        assert set(names) <= set(objects), f"add {names} to _path_objects"
        url = path.format(**objects)
        for method in methods:
            call = outsider.get if method == "get" else outsider.patch
            response = call(url) if method == "get" else call(url, {"percent_complete": 1})
            assert response.status_code == 404, (method, url, response.status_code)
            if method == "get":
                assert member.get(url).status_code == 200, url
            checked += 1
    assert checked >= 10


def test_an_unknown_object_is_404(cast):
    reader = ApiClient(make_token(cast.admin, "read"))
    assert reader.get(f"/api/workloads/{uuid.uuid4()}").status_code == 404
