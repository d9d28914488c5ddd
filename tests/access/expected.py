"""What each person may do at each URL, written by hand from the role model (roles-spec in the
project's design notes, the README's table): never computed by asking reviews/access.py.

Each URL name has a class; a class says, for one person and one method, which statuses are
right and whether the request may write. "login" stands for a redirect to the sign-in page.

Rights the role model leaves open (the guest of a session on pages the model does not list
for guests, a guest facilitator running the session, the owner-less finance member editing an
action) accept either answer: those rows still fail on a 500, a wrong denial code or a write
where none may happen, but not on the choice the model leaves to the implementation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.access.world import Person

LOGIN = "login"
DENIED = frozenset({403, 404, 405, LOGIN})
# A permitted POST with an empty body: done (200/204, or a redirect back), or a form error.
OK_WRITE = frozenset({200, 204, 302, 400})
PAGE = frozenset({200})
PHASE_LOCK = frozenset({400, 409})

ANSWERING = {"facilitator", "workload_owner", "operations", "security", "note_taker"}
RATES_IMPACT = {"facilitator", "workload_owner", "finance"}
RATES_EFFORT = {"facilitator", "operations", "security", "note_taker"}


@dataclass(frozen=True)
class Expect:
    statuses: frozenset
    may_write: bool = False


def _no(statuses) -> Expect:
    return Expect(frozenset(statuses))


def _ok(statuses=OK_WRITE) -> Expect:
    return Expect(frozenset(statuses), may_write=True)


# --- who is who --------------------------------------------------------------------------------


def sees_team(p: Person) -> bool:
    return p.team_role is not None


def sees_session(p: Person) -> bool:
    return p.team_role is not None or p.session_role is not None


def may_answer(p: Person, *, cost: bool) -> bool:
    if p.team_role == "viewer":
        return False
    return p.session_role in ANSWERING or (p.session_role == "finance" and cost)


def may_run(p: Person) -> bool:
    """Run the session, invite to it: a facilitator who is not a team viewer, or a team admin."""
    return p.team_role == "admin" or (
        p.session_role == "facilitator" and p.team_role in {"member", "finance"}
    )


def run_open(p: Person) -> bool:
    """The model's words ("a facilitator whose team role is not viewer") let a guest
    facilitator run the session; the guest rule ("sees that session only") does not say."""
    return p.team_role is None and p.session_role == "facilitator"


def may_rate(p: Person) -> bool:
    return p.team_role != "viewer" and p.session_role in RATES_IMPACT | RATES_EFFORT


def is_editor(p: Person) -> bool:
    return p.team_role in {"admin", "member"}


# --- the classes ---------------------------------------------------------------------------------

Rule = Callable[[Person, str], Expect]


def _signed_in(methods: set[str], rule: Rule) -> Rule:
    """Anonymous: to the sign-in page (or 405 for a method the view never takes); a method
    the view does not take: 405; else the rule."""

    def check(p: Person, method: str) -> Expect:
        if p.anonymous:
            return _no({LOGIN} if method in methods else {LOGIN, 405})
        if method not in methods:
            return _no({405})
        return rule(p, method)

    return check


def _team(rule: Rule) -> Rule:
    """An object of the team: outsiders and guests get 404 (the team's objects do not exist
    for them)."""

    def check(p: Person, method: str) -> Expect:
        if not sees_team(p):
            return _no({404})
        return rule(p, method)

    return check


def _session(rule: Rule, *, guests: str = "yes") -> Rule:
    """An object of the review session: outsiders 404; guests as `guests` says: "yes" (the
    rule decides), "no" (404: pages of the team beyond the session), "deny" (a write the
    guest may not make: 403 or 404) or "open" (the model does not say: the rule, or 403/404)."""

    def check(p: Person, method: str) -> Expect:
        if not sees_session(p):
            return _no({404})
        if p.is_guest and guests == "no":
            return _no({404})
        if p.is_guest and guests == "deny":
            return _no({403, 404})
        if p.is_guest and guests == "open":
            answer = rule(p, method)
            return Expect(answer.statuses | {403, 404}, answer.may_write)
        return rule(p, method)

    return check


def page(p: Person, method: str) -> Expect:
    return _no(PAGE)


def redirect_page(p: Person, method: str) -> Expect:
    return _no({302})


def personal_write(p: Person, method: str) -> Expect:
    """The person's own things (preferences, calendar token, password, read state, a new
    team of their own): anyone signed in."""
    if method == "GET":
        return _no(PAGE)
    return _ok()


def editor_form(p: Person, method: str) -> Expect:
    """A form that creates something in one of the person's teams (the team is chosen in
    the form): team admins and members; anyone else is refused or shown the form with
    nothing to choose, and nothing is written."""
    if is_editor(p):
        return _no(PAGE) if method == "GET" else _ok()
    # Refused, or sent back (a redirect with a message) to where they came from.
    return _no({200, 302, 403} if method == "GET" else {200, 302, 400, 403})


def lens_check(p: Person, method: str) -> Expect:
    return _no({200, 400, 403})


def team_edit(p: Person, method: str) -> Expect:
    if not is_editor(p):
        return _no({403, 404} if p.is_guest else {403})
    return _no(PAGE) if method == "GET" else _ok()


def team_page_or_edit(p: Person, method: str) -> Expect:
    return page(p, method) if method == "GET" else team_edit(p, method)


def team_admin(p: Person, method: str) -> Expect:
    if p.team_role != "admin":
        return _no({403})
    return _no(PAGE) if method == "GET" else _ok()


def team_page_or_admin(p: Person, method: str) -> Expect:
    return page(p, method) if method == "GET" else team_admin(p, method)


def run(p: Person, method: str, *, closed: bool = False) -> Expect:
    refused = {403, 404} if p.is_guest else {403}
    if p.team_role == "admin" and p.session_role == "observer":
        # A team admin runs any session, and an observer never writes: the model says both.
        return _no(PHASE_LOCK | {403}) if closed else _ok(OK_WRITE | {403})
    if may_run(p):
        return _no(PHASE_LOCK) if closed else _ok()
    if run_open(p):
        return _no(refused | PHASE_LOCK) if closed else _ok(OK_WRITE | refused)
    return _no(refused | (PHASE_LOCK if closed else set()))


def run_closed(p: Person, method: str) -> Expect:
    return run(p, method, closed=True)


def schedule(p: Person, method: str) -> Expect:
    if method == "GET":
        if may_run(p):
            return _no(PAGE)
        return _no({200, 403, 404} if p.is_guest else {200, 403})
    return run(p, method)


def page_or_run(p: Person, method: str) -> Expect:
    return page(p, method) if method == "GET" else run(p, method)


def session_edit(p: Person, method: str) -> Expect:
    """Team admins and members, in a session: an observer of it never writes (the model says
    both for a team admin or member who observes)."""
    answer = team_edit(p, method)
    if p.session_role == "observer" and is_editor(p):
        return Expect(answer.statuses | {403}, answer.may_write)
    return answer


def page_or_generate(p: Person, method: str) -> Expect:
    return page(p, method) if method == "GET" else session_edit(p, method)


def export(p: Person, method: str) -> Expect:
    """The review in the AWS tool's format: a read the model does not list (200 or 403)."""
    return _no(PAGE) if may_run(p) else _no({200, 403})


def answer(p: Person, method: str, *, cost: bool = False, closed: bool = False) -> Expect:
    if may_answer(p, cost=cost):
        return _no(PHASE_LOCK) if closed else _ok()
    return _no({403} | (PHASE_LOCK if closed else set()))


def answer_cost(p: Person, method: str) -> Expect:
    return answer(p, method, cost=True)


def answer_closed(p: Person, method: str) -> Expect:
    return answer(p, method, closed=True)


def parking(p: Person, method: str, *, closed: bool = False) -> Expect:
    """Anyone who may answer (finance: the cost pillar) adds to the parking lot."""
    return answer(p, method, cost=True, closed=closed)


def parking_closed(p: Person, method: str) -> Expect:
    return parking(p, method, closed=True)


def own_participation(p: Person, method: str) -> Expect:
    """A participant's own settings in the session (follow the facilitator, their own
    preparation checklist); someone without a participation has none to change."""
    if p.session_role is None:
        return _no({400, 403})
    if p.session_role == "observer" or p.team_role == "viewer":
        # Their own preference: allowed; a write of theirs beyond presence: the model forbids
        # for the checklist unless it is read as a preference.
        return _ok(OK_WRITE | {403})
    return _ok()


def page_or_upgrade(p: Person, method: str) -> Expect:
    if method == "GET":
        return _no({200, 302})
    return run(p, method)


def team_editor_form(p: Person, method: str) -> Expect:
    """Something the team's editors (admins and members) make from a session, whatever their
    seat in it (a review template): the others are refused."""
    if not is_editor(p):
        return _no({403})
    return _no({200, 302}) if method == "GET" else _ok()


def rate_impact(p: Person, method: str) -> Expect:
    allowed = p.team_role != "viewer" and p.session_role in RATES_IMPACT
    return _ok() if allowed else _no({403})


def rate_effort(p: Person, method: str) -> Expect:
    allowed = p.team_role != "viewer" and p.session_role in RATES_EFFORT
    return _ok() if allowed else _no({403})


def action_edit(p: Person, method: str) -> Expect:
    """An action item owned by someone else: team admins and members change it; finance
    owns actions (not this one); viewers never write."""
    if method == "GET":
        return _no(PAGE) if is_editor(p) else _no({200, 403})
    if is_editor(p):
        return _ok()
    if p.team_role == "finance":
        return _ok(OK_WRITE | {403})
    return _no({403})


def action_comment(p: Person, method: str) -> Expect:
    if p.team_role in {"admin", "member", "finance"}:
        return _ok()
    return _no({403})


def not_found(p: Person, method: str) -> Expect:
    return _no({404})


def token_page(p: Person, method: str) -> Expect:
    return _no(PAGE)


def invitation_valid(p: Person, method: str) -> Expect:
    """A pending invitation to a new address: the sign-up form for someone signed out (an
    empty one is refused), refused for anyone signed in as someone else."""
    if p.anonymous:
        return _no({200, 400})
    return _no({200, 403})


def _methods(*methods: str) -> set[str]:
    return set(methods)


GET = _methods("GET")
POST = _methods("POST")
BOTH = _methods("GET", "POST")


def _public(statuses_by_method: dict[str, set]) -> Rule:
    def check(p: Person, method: str) -> Expect:
        return _no(statuses_by_method.get(method, {405}))

    return check


def _token(methods: set[str], rule: Rule) -> Rule:
    def check(p: Person, method: str) -> Expect:
        if method not in methods:
            return _no({405})
        return rule(p, method)

    return check


# Every class, by name: the rule for a person and a method.
CLASSES: dict[str, Rule] = {
    # No sign-in needed.
    "public page": _public({"GET": {200}}),
    "public form": _public({"GET": {200}, "POST": {200}}),
    "sign out": _public({"GET": {405, LOGIN}, "POST": {302, LOGIN}}),
    "reset link (bad token)": _public({"GET": {200, 404}, "POST": {200, 404}}),
    "token feed": _token(GET, token_page),
    "token URL (bad token)": _token(GET, not_found),
    "invitation link": _token(BOTH, invitation_valid),
    "invitation link (bad token)": _token(BOTH, not_found),
    # Anyone signed in: their own pages and things.
    "personal page": _signed_in(GET, page),
    "personal write": _signed_in(POST, personal_write),
    "personal form": _signed_in(BOTH, personal_write),
    # Opening (GET) leaves it unread; a POST to the same link marks it read and opens it.
    "own notification": _signed_in(
        BOTH, lambda p, m: _no({200, 302}) if m == "GET" else _ok({200, 302})
    ),
    "someone else's notification": _signed_in(BOTH, not_found),
    "someone else's write": _signed_in(POST, not_found),
    "create in a team": _signed_in(BOTH, editor_form),
    "lens check": _signed_in(POST, lens_check),
    # The team's things.
    "team page": _signed_in(GET, _team(page)),
    "team page, admin writes": _signed_in(BOTH, _team(team_page_or_admin)),
    "team page, editors write": _signed_in(BOTH, _team(team_page_or_edit)),
    "team edit": _signed_in(BOTH, _team(team_edit)),
    "team edit (POST)": _signed_in(POST, _team(team_edit)),
    "team admin": _signed_in(POST, _team(team_admin)),
    "other team's page": _signed_in(GET, not_found),
    # One review session.
    "session page": _signed_in(GET, _session(page)),
    # Pages of a session that reach into the team's work (its tracker export, its lenses):
    # a guest sees the session only.
    "session page (team only)": _signed_in(GET, _session(page, guests="no")),
    # Upgrading a lens: the difference page, or back to the session when the review's lens
    # is the newest (as in the sweep's world); the upgrade itself is running the session.
    "lens upgrade": _signed_in(BOTH, _session(page_or_upgrade, guests="no")),
    "session editors form (team only)": _signed_in(BOTH, _session(team_editor_form, guests="no")),
    "bearer API": lambda p, m: _no({401} if m == "GET" else {401, 405}),
    "nothing here": lambda p, m: _no({404}),
    # Served by django-ninja, which answers any method with the schema; it writes nothing.
    "API schema": lambda p, m: _no({200} if m == "GET" else {200, 405}),
    "session redirect": _signed_in(GET, _session(redirect_page)),
    "session page, guests open": _signed_in(GET, _session(page, guests="open")),
    "session redirect, guests open": _signed_in(GET, _session(redirect_page, guests="open")),
    "session page, run writes": _signed_in(BOTH, _session(page_or_run)),
    "session page, editors write": _signed_in(BOTH, _session(page_or_generate)),
    "session schedule": _signed_in(BOTH, _session(schedule)),
    "run the session": _signed_in(POST, _session(run)),
    "run the session (closed)": _signed_in(POST, _session(run_closed)),
    "session editors write": _signed_in(POST, _session(session_edit)),
    "session editors form": _signed_in(BOTH, _session(session_edit)),
    "session export": _signed_in(GET, _session(export, guests="open")),
    "answer": _signed_in(POST, _session(answer)),
    "answer (cost pillar)": _signed_in(POST, _session(answer_cost)),
    "answer (closed)": _signed_in(POST, _session(answer_closed)),
    "parking add": _signed_in(POST, _session(parking)),
    "parking add (closed)": _signed_in(POST, _session(parking_closed)),
    "own participation": _signed_in(POST, _session(own_participation)),
    "rate impact": _signed_in(POST, _session(rate_impact)),
    "rate effort": _signed_in(POST, _session(rate_effort)),
    "action page": _signed_in(GET, _session(page, guests="open")),
    "action edit": _signed_in(BOTH, _session(action_edit, guests="deny")),
    "action write": _signed_in(POST, _session(action_edit, guests="deny")),
    "action comment": _signed_in(POST, _session(action_comment, guests="deny")),
}


def expected(url_class: str, person: Person, method: str) -> Expect:
    return CLASSES[url_class](person, method)
