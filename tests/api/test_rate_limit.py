"""The per-token rate: reads and writes counted apart (API_RATE_READ, API_RATE_WRITE), a 429
with Retry-After past it, and each token has its own count."""

from __future__ import annotations

import pytest

from tests.api.conftest import ApiClient, make_token

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_rates(settings):
    settings.API_RATE_READ = "3/m"
    settings.API_RATE_WRITE = "2/m"


def test_past_the_read_rate_the_answer_is_429_with_retry_after(cast):
    api = ApiClient(make_token(cast.admin, "read"))
    assert [api.get("/api/workloads").status_code for _ in range(3)] == [200] * 3
    response = api.get("/api/workloads")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "Retry-After" in response.json()["detail"]


def test_reads_and_writes_are_counted_apart(cast, review, answer):
    api = ApiClient(make_token(cast.admin, "write"))
    path = f"/api/sessions/{review.uuid}/answers/{answer.question.uuid}"
    for _ in range(3):
        assert api.get(path).status_code == 200
    assert api.get(path).status_code == 429
    # Writes still have their own allowance.
    first = api.patch(path, {"notes": "a", "notes_revision": 0})
    second = api.patch(path, {"notes": "b", "notes_revision": 1})
    assert (first.status_code, second.status_code) == (200, 200)
    third = api.patch(path, {"notes": "c", "notes_revision": 2})
    assert third.status_code == 429 and int(third["Retry-After"]) >= 1
    answer.refresh_from_db()
    assert answer.notes == "b"


def test_each_token_has_its_own_count(cast):
    one = ApiClient(make_token(cast.admin, "read"))
    other = ApiClient(make_token(cast.admin, "read"))
    for _ in range(3):
        one.get("/api/workloads")
    assert one.get("/api/workloads").status_code == 429
    assert other.get("/api/workloads").status_code == 200


def test_a_cache_that_fails_counts_nothing(cast, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("cache away")

    monkeypatch.setattr("actions.api.auth.get_usage", broken)
    api = ApiClient(make_token(cast.admin, "read"))
    assert {api.get("/api/workloads").status_code for _ in range(5)} == {200}
