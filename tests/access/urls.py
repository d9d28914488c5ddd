"""Every URL pattern, and how the sweep fills it: the value of each keyword from the world
(KWARGS), and per URL name its variants (other values for some keywords) with their class
in the EXPECTED table (tests/access/expected.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from tests.access.world import Person, World

# Patterns the sweep leaves out, and why.
EXCLUDED_NAMESPACES = {
    "admin": "Django's admin: staff only, with its own sign-in and checks (tests/test_admin.py)",
}
EXCLUDED_PREFIXES = {
    "static/": "static files, public by design",
    "__debug__/": "the debug toolbar, never installed outside development",
}

Value = Callable[[World, Person], Any]


def _first_choice(answer_attr: str) -> Value:
    def value(w: World, p: Person) -> str:
        answer = getattr(w, answer_attr)
        return answer.question.choices.order_by("order").first().ident

    return value


def _question(answer_attr: str) -> Value:
    return lambda w, p: getattr(w, answer_attr).question.uuid


# The value of every URL keyword, from the world and the person asking.
KWARGS: dict[str, Value] = {
    "workload_uuid": lambda w, p: w.workload.uuid,
    "session_uuid": lambda w, p: w.review.uuid,
    "participant_id": lambda w, p: w.spare_participant.pk,
    "invitation_uuid": lambda w, p: w.invitation.uuid,
    "token": lambda w, p: "bad-token",
    "uidb64": lambda w, p: "MQ",
    "item_uuid": lambda w, p: w.parking_item.uuid,
    "question_uuid": _question("question"),
    "choice": _first_choice("question"),
    "step": lambda w, p: "pick",
    "name": lambda w, p: "participants",
    "team_uuid": lambda w, p: w.team.uuid,
    "member_id": lambda w, p: w.spare_membership.pk,
    "finding_uuid": lambda w, p: w.finding.uuid,
    "action_uuid": lambda w, p: w.action.uuid,
    "document_uuid": lambda w, p: w.document.uuid,
    "notification_uuid": lambda w, p: w.notifications[p.key if not p.anonymous else "spare"].uuid,
    "followup_uuid": lambda w, p: w.follow_up.uuid,
    "lens_uuid": lambda w, p: w.lens.uuid,
    "template_uuid": lambda w, p: w.extra["template"].uuid,
    "token_uuid": lambda w, p: w.extra["token"].uuid,
    # The REST API's own paths (bearer tokens; the sweep's people carry none).
    "milestone_uuid": lambda w, p: w.milestone.uuid,
}


@dataclass(frozen=True)
class Variant:
    label: str
    url_class: str
    overrides: dict[str, Value] = field(default_factory=dict)
    # The POST body: empty, unless the view needs one to get as far as the access rule
    # (the form its page sends), so that a person who may not write is refused for who they
    # are, and one who may, writes.
    data: dict[str, Value] = field(default_factory=dict)


def v(url_class: str, label: str = "", data: dict | None = None, **overrides: Value) -> Variant:
    return Variant(label, url_class, overrides, data or {})


# Body fields: a constant, or computed from the variant's keyword values (those of the URL
# and the others it would have, e.g. the question a session-level action is posted from).
def _url_question(value: Callable[[str], Any]) -> str:
    return str(value("question_uuid"))


def _url_first_choice(value: Callable[[str], Any]) -> str:
    from questionnaires.models import Question

    question = Question.objects.get(uuid=value("question_uuid"))
    return question.choices.order_by("order").first().ident


CLOSED = {
    "session_uuid": lambda w, p: w.closed.uuid,
    "question_uuid": _question("closed_question"),
    "choice": _first_choice("closed_question"),
}
COST = {"question_uuid": _question("cost_question"), "choice": _first_choice("cost_question")}
CLOSED_ITEM: Value = lambda w, p: w.closed_parking_item.uuid  # noqa: E731
OTHER_TEAM_SESSION = {"session_uuid": lambda w, p: w.other_session.uuid}


def _answer_variants(data: dict | None = None) -> list[Variant]:
    return [
        v("answer", "other pillar", data),
        v("answer (cost pillar)", "cost pillar", data, **COST),
        v("answer (closed)", "analysis phase", data, **CLOSED),
    ]


AT_QUESTION = {"question": _url_question}  # session-level actions say from which question
PICK = {"select": "1", "choice": _url_first_choice}


# The REST API: it answers bearer tokens only (tests/api/ sweeps it with tokens, an
# outsider's 404 on every operation of its schema); signed in by a session cookie, every
# person of the sweep gets 401, or 405 for a method the operation does not take.
API_OPERATIONS = [
    "action_detail",
    "action_list",
    "action_update",
    "answer_detail",
    "answer_list",
    "answer_update",
    "finding_detail",
    "finding_list",
    "milestone_detail",
    "milestone_list",
    "session_detail",
    "session_list",
    "session_risk_counts",
    "workload_detail",
    "workload_list",
]

# Every URL name: its variants (a class and the keywords that differ from KWARGS).
URLS: dict[str, list[Variant]] = {
    **{f"api-v1:{name}": [v("bearer API")] for name in API_OPERATIONS},
    "api-v1:api-root": [v("nothing here")],
    "api-v1:openapi-json": [v("API schema")],
    "api-v1:openapi-view": [v("API schema")],
    "api:tokens": [v("personal form")],
    "api:token_revoke": [v("someone else's write")],
    "actions:time_zone_set": [v("personal write")],
    "actions:workload_import": [v("create in a team")],
    "actions:workload_export": [v("team page")],
    "actions:tracker_csv": [v("session page (team only)")],
    "actions:tracker_json": [v("session page (team only)")],
    "actions:lens_upgrade": [v("lens upgrade")],
    "reviews:answer_confirm": _answer_variants(),
    "reviews:participant_attended": [v("run the session")],
    "reviews:template_list": [v("team page")],
    "reviews:template_detail": [v("team page")],
    "reviews:template_delete": [v("team edit (POST)")],
    "reviews:template_create": [v("session editors form (team only)")],
    # Signing in and out, passwords, health.
    "login": [v("public form")],
    "logout": [v("sign out")],
    "password_change": [v("personal form")],
    "password_change_done": [v("personal page")],
    "password_reset": [v("public form")],
    "password_reset_done": [v("public page")],
    "password_reset_confirm": [v("reset link (bad token)")],
    "password_reset_complete": [v("public page")],
    "healthz": [v("public page")],
    "readyz": [v("public page")],
    # The person's own pages.
    "home": [v("personal page")],
    "actions:dashboard": [v("personal page")],
    "actions:my_actions": [v("personal page")],
    "actions:cost_findings": [v("personal page")],
    "actions:notifications": [v("personal page")],
    "actions:notification_preferences": [v("personal form")],
    "actions:notification_open": [
        v("own notification", "own"),
        v(
            "someone else's notification",
            "someone else's",
            notification_uuid=lambda w, p: w.notifications["spare"].uuid,
        ),
    ],
    "actions:notification_read": [
        v("personal write", "own"),
        v(
            "someone else's write",
            "someone else's",
            notification_uuid=lambda w, p: w.notifications["spare"].uuid,
        ),
    ],
    "actions:notifications_read_all": [v("personal write")],
    "actions:calendar_reset": [v("personal write")],
    "actions:calendar_feed": [
        v("token feed", "valid token", token=lambda w, p: w.feed.token),
        v("token URL (bad token)", "bad token"),
    ],
    "reviews:invitation_accept": [
        v("invitation link", "valid token", token=lambda w, p: w.invitation_token),
        v("invitation link (bad token)", "bad token"),
    ],
    "reviews:workload_list": [v("personal page")],
    "reviews:team_list": [v("personal form")],
    "reviews:workload_create": [v("create in a team")],
    "actions:aws_import": [v("create in a team")],
    # The lens library: built-in lenses are everyone's; imports by team admins and members.
    "questionnaires:lens_list": [v("create in a team")],
    "questionnaires:lens_check": [v("lens check")],
    "questionnaires:lens_detail": [v("personal page")],
    "questionnaires:lens_export": [v("personal page")],
    # The team, its workloads.
    "reviews:team_detail": [v("team page, admin writes")],
    "reviews:team_invitation_revoke": [
        v("team admin", invitation_uuid=lambda w, p: w.team_invitation.uuid)
    ],
    "reviews:team_invitation_answer": [
        v("invitation link", "valid token", token=lambda w, p: w.team_invitation_token),
        v("invitation link (bad token)", "bad token"),
    ],
    "reviews:member_role": [v("team admin")],
    "reviews:team_settings": [v("team admin")],
    "reviews:member_remove": [v("team admin")],
    "reviews:workload_detail": [
        v("team page"),
        v("other team's page", "another team's", workload_uuid=lambda w, p: w.other_workload.uuid),
    ],
    "reviews:workload_edit": [v("team edit")],
    "reviews:workload_cadence": [v("team page, editors write")],
    "reviews:incident_record": [v("team edit (POST)")],
    "reviews:session_create": [v("team edit")],
    "actions:workload_panel": [v("team page")],
    "actions:milestone_compare": [v("team page")],
    # A milestone is the workload's (its trend, its comparisons), not one session's: the
    # workload's editors save one.
    "actions:milestone_create": [v("team edit (POST)")],
    # One session: its pages.
    "reviews:session_detail": [
        v("session page"),
        v("other team's page", "another team's", **OTHER_TEAM_SESSION),
    ],
    "reviews:session_fragment": [v("session page")],
    "reviews:session_live": [v("session redirect")],
    "reviews:session_events": [v("session page")],
    "reviews:question": [v("session page")],
    "reviews:question_fragment": [v("session page", name=lambda w, p: "choices")],
    "reviews:question_history": [v("session page")],
    "actions:analysis": [
        v("session page", session_uuid=lambda w, p: w.closed.uuid),
        v("other team's page", "another team's", **OTHER_TEAM_SESSION),
    ],
    "actions:plan": [v("session page", session_uuid=lambda w, p: w.closed.uuid)],
    "actions:plan_documents": [v("session page, editors write")],
    "actions:plan_document_download": [v("session page")],
    "actions:plan_document_retry": [v("session editors write")],
    "actions:aws_export": [v("session export")],
    "actions:session_followup": [
        v("session redirect, guests open", session_uuid=lambda w, p: w.closed.uuid)
    ],
    "actions:followup": [v("session page, guests open")],
    # Running the session.
    "reviews:session_schedule": [v("session schedule")],
    "reviews:session_phase": [v("run the session", data={"to": "analysis"})],
    "reviews:session_reopen": [
        v("run the session", data={"reason": "Swept."}, session_uuid=lambda w, p: w.closed.uuid)
    ],
    "reviews:session_budgets": [v("run the session")],
    "reviews:participant_role": [v("run the session")],
    "reviews:participant_remove": [v("run the session")],
    "reviews:invitation_create": [v("run the session")],
    "reviews:invitation_resend": [v("run the session")],
    "reviews:invitation_revoke": [v("run the session")],
    "reviews:focus": [
        v("run the session", "review phase", AT_QUESTION),
        v("run the session (closed)", "analysis phase", AT_QUESTION, **CLOSED),
    ],
    "reviews:parking_dismiss": [v("run the session", data=AT_QUESTION)],
    "actions:parking_dismiss": [v("session editors write", item_uuid=CLOSED_ITEM)],
    "actions:plan_publish": [v("run the session", session_uuid=lambda w, p: w.closed.uuid)],
    "actions:findings_sync": [v("run the session", session_uuid=lambda w, p: w.closed.uuid)],
    "actions:finding_move": [v("run the session")],
    "actions:finding_accept": [v("run the session")],
    "actions:finding_revoke": [v("run the session")],
    "actions:followup_action": [v("action write")],
    "actions:followup_finish": [v("run the session")],
    # A participant's own settings.
    "reviews:follow": [v("own participation", data={**AT_QUESTION, "follow": "0"})],
    "reviews:session_checklist": [v("own participation")],
    # Answering.
    "reviews:choice_toggle": _answer_variants({"select": "1"}),
    "reviews:choice_applicability": _answer_variants({"not_applicable": "on", "reason": "other"}),
    "reviews:answer_form": _answer_variants(
        {"selected": _url_first_choice, "shown": _url_first_choice}
    ),
    "reviews:applicability": _answer_variants({"not_applicable": "on", "reason": "other"}),
    "reviews:notes_save": _answer_variants({"text": "Swept.", "revision": "0"}),
    "reviews:blind": [
        v("run the session", "open a round", step=lambda w, p: "open"),
        v("answer", "pick, other pillar", PICK, question_uuid=_question("blind_question")),
        v(
            "answer (cost pillar)",
            "pick, cost pillar",
            PICK,
            question_uuid=_question("blind_cost_question"),
        ),
        v(
            "run the session",
            "reveal",
            step=lambda w, p: "reveal",
            question_uuid=_question("blind_question"),
        ),
        v(
            "answer (closed)",
            "pick, analysis phase",
            PICK,
            session_uuid=lambda w, p: w.closed.uuid,
            question_uuid=_question("closed_blind_question"),
        ),
        v(
            "run the session (closed)",
            "agree, analysis phase",
            step=lambda w, p: "agree",
            session_uuid=lambda w, p: w.closed.uuid,
            question_uuid=_question("closed_blind_question"),
        ),
    ],
    "reviews:parking_add": [
        v("parking add", "review phase", {**AT_QUESTION, "text": "Swept."}),
        v(
            "parking add (closed)",
            "analysis phase",
            {**AT_QUESTION, "text": "Swept."},
            **CLOSED,
        ),
    ],
    # Findings, actions (not in the role model's table: the app's rule, team admins and
    # members create actions and the PDF; owners and editors change an action).
    "actions:finding_rate": [
        v("rate impact", "impact", {"kind": "impact", "value": "3"}),
        v("rate effort", "effort", {"kind": "effort", "value": "3"}),
    ],
    "actions:action_from_practice": [v("session editors write")],
    "actions:parking_to_action": [v("session editors write", item_uuid=CLOSED_ITEM)],
    "actions:action_create": [v("session editors form", session_uuid=lambda w, p: w.closed.uuid)],
    "actions:action_detail": [v("action page")],
    "actions:action_edit": [v("action edit")],
    "actions:action_reassign": [v("session editors write")],
    "actions:action_comment": [v("action comment")],
    "actions:action_progress": [v("action write")],
}


@dataclass(frozen=True)
class Pattern:
    name: str
    route: str
    keywords: tuple[str, ...]


def url_patterns(
    resolver: URLResolver | None = None, namespace: str = "", prefix: str = ""
) -> Iterator[Pattern]:
    """Every named pattern of the project, recursively, but the excluded ones."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if any(route.startswith(p) for p in EXCLUDED_PREFIXES):
            continue
        if isinstance(entry, URLResolver):
            if entry.namespace in EXCLUDED_NAMESPACES:
                continue
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from url_patterns(entry, ns, route)
        elif isinstance(entry, URLPattern):
            if not entry.name:
                raise AssertionError(f"an unnamed URL pattern cannot be swept: {route}")
            keywords = tuple(getattr(entry.pattern, "converters", {}))
            yield Pattern(f"{namespace}{entry.name}", route, keywords)


def body(variant: Variant, world: World, person: Person) -> dict[str, Any]:
    values = {**KWARGS, **variant.overrides}

    def value(keyword: str) -> Any:
        return values[keyword](world, person)

    return {k: (f(value) if callable(f) else f) for k, f in variant.data.items()}


def fill(pattern: Pattern, variant: Variant, world: World, person: Person) -> dict[str, Any]:
    values = {**KWARGS, **variant.overrides}
    missing = [k for k in pattern.keywords if k not in values]
    if missing:
        raise LookupError(f"{pattern.name}: no value for {missing}: add them to KWARGS")
    return {k: values[k](world, person) for k in pattern.keywords}
