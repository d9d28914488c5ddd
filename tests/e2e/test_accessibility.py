"""axe-core over every page: each URL of the role test's sweep (tests/access/urls.py) that
answers a GET with a whole HTML page, for the facilitator (a team admin), with a review in
every phase, and signed out. No serious or critical violation anywhere.

axe-core's script comes from a pinned PyPI package (axe-playwright-python), never a CDN."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from actions import findings
from actions.models import FollowUp
from reviews.models import Phase, ReviewSession
from tests.access.urls import URLS, fill, url_patterns
from tests.access.world import PEOPLE, Person, World, build_world
from tests.actions.analysis_helpers import set_risk

pytestmark = pytest.mark.e2e

# Whose pages: the facilitator, a team admin, sees every page and every control; signed
# out, the public pages.
WHO = ("admin/facilitator", "anonymous")
SEVERE = {"serious", "critical"}
# axe's rules tagged experimental are off unless named: this one finds a button whose
# accessible name does not start with what it shows.
OPTIONS = {
    "resultTypes": ["violations"],
    "rules": {"label-content-name-mismatch": {"enabled": True}},
}
# The phases the world does not already hold (it has a review in review and one in analysis).
OTHER_PHASES = (Phase.PREPARATION, Phase.ACTION_PLAN, Phase.FOLLOW_UP, Phase.CLOSED)


# Left out of the check, and why: django-ninja's Swagger UI draws the API docs page from its
# own bundle (its colours, its markup); the page around it is ours and is checked.
VENDOR_WIDGETS = {"api-v1:openapi-view": ["#swagger-ui"]}


@dataclass(frozen=True)
class Visit:
    person: Person
    url: str
    exclude: tuple[str, ...] = ()


def session_in(world: World, phase: str) -> ReviewSession:
    """A review of the world's workload, with its people and a finding, moved to `phase`."""
    from reviews import sessions
    from reviews.models import Participant

    facilitator = world.users["admin/facilitator"]
    session = sessions.session_create(
        workload=world.workload,
        user=facilitator,
        title=f"Review in {phase}",
        kind="periodic",
        review_starts_at=world.review.review_starts_at,
    )
    for person in PEOPLE:
        if person.session_role:
            Participant.objects.update_or_create(
                session=session,
                user=world.users[person.key],
                defaults={"role": person.session_role, "is_guest": person.is_guest},
            )
    if phase != Phase.PREPARATION:
        ReviewSession.objects.filter(pk=session.pk).update(phase=Phase.REVIEW)
        set_risk(session, "manage-service-limits", "HIGH", facilitator)
        ReviewSession.objects.filter(pk=session.pk).update(phase=Phase.ANALYSIS)
        session.refresh_from_db()
        findings.findings_sync(session=session)
        ReviewSession.objects.filter(pk=session.pk).update(phase=phase)
        session.refresh_from_db()
    if phase in (Phase.FOLLOW_UP, Phase.CLOSED):
        FollowUp.objects.create(session=session, number=1, due_on=date.today() + timedelta(days=9))
    return session


def is_page(response: Any) -> bool:
    if response.status_code != 200 or response.streaming:
        return False
    if not response.get("Content-Type", "").startswith("text/html"):
        return False
    return b"<html" in response.content[:500]  # a whole page, not a fragment


def pages(world: World, phases: list[ReviewSession]) -> list[Visit]:
    """Every GET of the sweep's URLs that answers one of WHO with a whole HTML page; the
    session's pages once more for each review in another phase."""
    people = [p for p in PEOPLE if p.key in WHO]
    clients = {}
    for person in people:
        clients[person.key] = Client(raise_request_exception=False)
        if not person.anonymous:
            clients[person.key].force_login(world.user(person))
    visits: list[Visit] = []
    for pattern in url_patterns():
        if pattern.name.startswith("api-v1:"):
            continue  # the REST API answers JSON (its docs page is public: checked below)
        for variant in URLS[pattern.name]:
            for person in people:
                kwargs = fill(pattern, variant, world, person)
                urls = [reverse(pattern.name, kwargs=kwargs)]
                if "session_uuid" in kwargs and kwargs["session_uuid"] == world.review.uuid:
                    urls += [
                        reverse(pattern.name, kwargs={**kwargs, "session_uuid": s.uuid})
                        for s in phases
                    ]
                for url in urls:
                    if is_page(clients[person.key].get(url)):
                        visits.append(Visit(person, url))
    docs = "api-v1:openapi-view"
    visits.append(Visit(people[0], reverse(docs), tuple(VENDOR_WIDGETS[docs])))
    return list(dict.fromkeys(visits))


def violations(page: Any, exclude: tuple[str, ...] = ()) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    context = {"exclude": [[selector] for selector in exclude]} if exclude else None
    results = Axe().run(page, context=context, options=OPTIONS).response
    found = []
    for violation in results["violations"]:
        if violation["impact"] not in SEVERE:
            continue
        nodes = "; ".join(
            " ".join(map(str, node["target"])) + " " + node["html"][:120]
            for node in violation["nodes"][:5]
        )
        more = len(violation["nodes"]) - 5
        found.append(
            f"{violation['id']} ({violation['impact']}, {len(violation['nodes'])} nodes): "
            f"{nodes}" + (f" … and {more} more" if more > 0 else "")
        )
    return found


def test_no_serious_or_critical_violation_on_any_page(live):
    world = build_world()
    phases = [session_in(world, phase) for phase in OTHER_PHASES]
    visits = pages(world, phases)
    assert len({v.url for v in visits}) > 40  # the sweep really reached the pages
    tabs: dict[str, Any] = {}
    failures = []
    for visit in visits:
        key = visit.person.key
        if key not in tabs:
            tabs[key] = live.page(world.user(visit.person))
        page = tabs[key]
        page.goto(live.url + visit.url)
        page.wait_for_function("() => !document.querySelector('.htmx-request')")
        for found in violations(page, visit.exclude):
            failures.append(f"{visit.url} as {key}: {found}")
    # A page with a message (the one after a phase move).
    page = tabs["admin/facilitator"]
    page.goto(live.url + reverse("reviews:session_detail", args=[phases[0].uuid]))
    page.get_by_role("button", name="Move to review").click()
    page.locator(".messages li").wait_for()
    for found in violations(page):
        failures.append(f"the page after a phase move: {found}")
    assert not failures, f"{len(failures)} serious or critical:\n" + "\n".join(failures)
