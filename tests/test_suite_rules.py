"""The rules of the test run itself (tests/conftest.py): nothing may skip when services are
required, a test that needs a service must carry its marker, and every test database holds
the built-in lenses, transactional tests included."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from questionnaires import structure
from questionnaires.models import Lens, Question

ROOT = Path(__file__).resolve().parents[1]

CONFTEST = """
from tests.conftest import (
    pytest_make_collect_report,
    pytest_runtest_makereport,
    pytest_runtest_protocol,
)
"""

TESTS = """
import pytest

from tests.conftest import require_postgres, require_redis


def test_skips():
    pytest.skip("not today")


def test_needs_redis_without_the_marker():
    require_redis()


@pytest.mark.postgres
def test_needs_postgres_with_the_marker():
    require_postgres()


@pytest.mark.xfail(reason="a known bug", strict=True)
def test_a_known_bug():
    assert False


def test_passes():
    pass
"""

MODULE_SKIP = """
import pytest

pytest.skip("the whole module", allow_module_level=True)
"""


@pytest.fixture
def run_rules(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    """Run a small suite under the rules of ours, in a new process, with no services."""
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_rules=TESTS, test_module_skip=MODULE_SKIP)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "config.settings")
    for name in ("DATABASE_URL", "REDIS_URL", "PILLARWISE_REQUIRE_SERVICES"):
        monkeypatch.delenv(name, raising=False)

    def run(*, require_services: bool) -> pytest.RunResult:
        if require_services:
            monkeypatch.setenv("PILLARWISE_REQUIRE_SERVICES", "1")
        return pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "-rA", "--continue-on-collection-errors"
        )

    return run


def test_without_services_required_a_missing_service_skips(run_rules):
    result = run_rules(require_services=False)
    result.assert_outcomes(passed=1, skipped=3, failed=1, xfailed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_needs_redis_without_the_marker needs Redis (REDIS_URL): mark it @pytest.mark.redis*"
        ]
    )


def test_with_services_required_every_skip_fails(run_rules):
    result = run_rules(require_services=True)
    result.assert_outcomes(passed=1, failed=3, xfailed=1, errors=1)
    result.stdout.fnmatch_lines_random(
        [
            "*FAILED test_rules.py::test_skips*",
            "*FAILED test_rules.py::test_needs_postgres_with_the_marker*",
            "*nothing may skip with PILLARWISE_REQUIRE_SERVICES set: Skipped: not today*",
            "*ERROR test_module_skip.py*",
        ]
    )


def test_every_test_starts_with_the_builtin_lenses(db):
    assert set(Lens.objects.filter(is_builtin=True).values_list("name", flat=True)) == {
        "Well-Architected Framework",
        "Serverless Lens",
        "SaaS Lens",
    }


@pytest.mark.django_db(transaction=True)
def test_a_flush_puts_the_builtin_lenses_back_with_the_same_ids():
    """What a transactional test ends with: the next test finds the same rows, so the
    per-process question caches stay right."""
    before = dict(Question.objects.values_list("uuid", "pk"))
    question = Question.objects.order_by("pk").first()
    cached = structure.question_info(question.pk)
    Lens.objects.all().delete()
    call_command("flush", interactive=False, verbosity=0)
    assert dict(Question.objects.values_list("uuid", "pk")) == before
    assert Lens.objects.filter(is_builtin=True).count() == 3
    structure.question_info.cache_clear()
    assert structure.question_info(question.pk) == cached
