"""The Content-Security-Policy: every response carries it, and no template or rendered page
holds what it forbids (inline scripts, inline event handlers, style attributes or elements,
javascript: links, htmx's eval). tests/e2e/test_csp.py checks the same in a browser."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse

from tests.actions.analysis_helpers import analysed
from tests.conftest import ROOT

# Emails and the PDF are not served to a browser under the policy; they keep inline styles.
NOT_SERVED = ("templates/emails/", "templates/actions/pdf/")


def served_templates() -> list[Path]:
    return [
        path
        for path in sorted((ROOT / "templates").rglob("*.html"))
        if not str(path.relative_to(ROOT)).startswith(NOT_SERVED)
    ]


def test_every_response_carries_the_policy(client, db):
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["connect-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "unsafe" not in policy and "nonce" not in policy
    for response in (client.get("/healthz"), client.get("/no-such-page/")):
        assert response["Content-Security-Policy"] == policy


DATA_BLOCKS = ("application/json", "application/ld+json")


class Forbidden(HTMLParser):
    """What the policy forbids, found in an HTML document or fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._script_without_src = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script":
            # A data block (type="application/json") is never run, so the policy allows it.
            kind = (dict(attrs).get("type") or "").strip().lower()
            self._script_without_src = "src" not in names and kind not in DATA_BLOCKS
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name == "style":
                self.found.append(f'<{tag} style="{value}">')
            if name.startswith("hx-on") or (name == "hx-vals" and (value or "").startswith("js:")):
                self.found.append(f"<{tag} {name}> (htmx eval)")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}=javascript:…>")

    def handle_data(self, data: str) -> None:
        if self._script_without_src and data.strip():
            self.found.append(f"inline <script>: {data.strip()[:40]}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script_without_src = False


def forbidden_in(html: str) -> list[str]:
    parser = Forbidden()
    parser.feed(html)
    return parser.found


def test_the_checker_finds_what_it_looks_for():
    html = (
        '<script>alert(1)</script><a onclick="x()" href="javascript:x()">a</a>'
        '<p style="color:red"></p><style>p{}</style><input hx-vals=\'js:{"a": 1}\'>'
        '<script src="/static/js/app.js"></script>'
        '<script type="application/json">{"data": 1}</script>'
    )
    assert len(forbidden_in(html)) == 6


@pytest.mark.parametrize("path", served_templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_holds_what_the_policy_forbids(path):
    # Template tags are left as text; an attribute holding one is still an attribute.
    text = re.sub(r"\{#.*?#\}", "", path.read_text(), flags=re.S)
    text = re.sub(r"\{% comment %\}.*?\{% endcomment %\}", "", text, flags=re.S)
    assert forbidden_in(text) == []


def test_the_rendered_pages_hold_nothing_the_policy_forbids(client, review, cast):
    analysed(review, cast)
    client.force_login(cast.admin)
    question = review.answers.select_related("question").first().question
    pages = [
        reverse("home"),
        reverse("reviews:workload_list"),
        reverse("reviews:workload_detail", args=[cast.workload.uuid]),
        reverse("reviews:session_detail", args=[review.uuid]),
        reverse("reviews:question", args=[review.uuid, question.uuid]),
        reverse("reviews:question_history", args=[review.uuid, question.uuid]),
        reverse("actions:analysis", args=[review.uuid]),
        reverse("actions:plan", args=[review.uuid]),
        reverse("actions:plan_documents", args=[review.uuid]),
        reverse("actions:workload_panel", args=[cast.workload.uuid]),
        reverse("actions:my_actions"),
        reverse("actions:cost_findings"),
        reverse("actions:notifications"),
        reverse("actions:notification_preferences"),
        reverse("questionnaires:lens_list"),
        reverse("reviews:team_list"),
        reverse("reviews:team_detail", args=[cast.team.uuid]),
        reverse("password_change"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert forbidden_in(response.content.decode()) == [], url
    client.logout()
    for url in (reverse("login"), reverse("password_reset"), reverse("admin:login")):
        assert forbidden_in(client.get(url).content.decode()) == [], url
