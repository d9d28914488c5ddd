"""What the action-plan PDF says, how it is laid out, and that rendering stays offline and
reads the data in one pass."""

from __future__ import annotations

import io
import socket
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import dateformat, timezone
from django.utils.html import escape
from pypdf import PdfReader

from actions import pdf
from actions.items import action_create
from actions.milestones import risk_counts_by_pillar
from actions.models import ActionItem, PlanDocument
from questionnaires.models import Choice, Lens, Pillar, Question, RiskRule
from reviews.models import Answer, SessionLens
from tests.actions.analysis_helpers import framework_answer
from tests.actions.pdf_helpers import page_texts, pdf_text, plan_session


@pytest.fixture
def planned(cast, review):
    return plan_session(cast, review, actions=4, answers=12)


def test_the_html_has_every_part_of_the_plan(cast, review, planned):
    html = pdf.plan_html(review, version=3)

    for heading in (
        "Executive summary",
        "Top findings",
        "Participants",
        "Risks by pillar",
        "Impact × effort",
        "Roadmap",
        "Actions",
        "Answers",
    ):
        assert f">{heading}<" in html, heading
    assert "Version 3, generated" in html and "Alice Admin" in html
    assert "<td>Workload owner</td>" in html and "<td>Finance</td>" in html  # participants
    assert html.count("<svg") >= 2  # the risk bars and the matrix
    assert 'aria-label="Risk counts per pillar' in html and "Impact × effort matrix" in html
    for action in planned:
        assert escape(action.title) in html
        assert f"<strong>{dateformat.format(action.due_on, 'F Y')}</strong>" in html  # roadmap
    assert "Risks accepted" in html and "Legacy batch job" in html


def test_only_answered_questions_are_listed(cast, review, planned):
    html = pdf.plan_html(review)

    answers = list(review.answers.select_related("question"))
    answered = [a for a in answers if a.risk != "UNANSWERED"]
    assert len(answered) == 12
    for answer in answered:
        assert f"<h4>{escape(answer.question.title)} <span" in html
    unanswered = [a for a in answers if a.risk == "UNANSWERED"]
    assert unanswered
    for answer in unanswered:
        assert f"<h4>{escape(answer.question.title)} <span" not in html


def test_selected_choices_and_not_applicable_reasons_are_shown(cast, review, planned):
    html = pdf.plan_html(review)
    answer = framework_answer(review, "priorities")
    titles = [
        escape(s.choice.title)
        for s in answer.selections.select_related("choice").order_by("choice__order")
    ]
    assert titles and f'<span class="label">Selected:</span> {" · ".join(titles)}</p>' in html
    assert "Does not apply: out of scope." in html


def test_notes_are_markdown_rendered_and_sanitised(cast, review, planned):
    html = pdf.plan_html(review)
    assert "<strong>operations</strong>" in html
    assert "<code>alerts.yaml</code>" in html
    assert "<script" not in html.lower() and "alert('never rendered')" not in html


def test_a_review_with_nothing_yet_still_makes_a_plan(cast, review):
    html = pdf.plan_html(review)
    assert "No question has been answered yet." in html
    assert "No open findings" in html and "No actions yet." in html
    assert pdf.render_pdf(html).content.startswith(b"%PDF-")


def test_the_plan_reads_a_fixed_number_of_queries(cast, review):
    plan_session(cast, review, actions=2, answers=6)
    with CaptureQueriesContext(connection) as small:
        pdf.plan_html(review)

    plan_session_more(cast, review)
    with CaptureQueriesContext(connection) as large:
        pdf.plan_html(review)

    assert review.actions.count() == 32
    # 14: the best practices marked not applicable are read twice, for the answers and for
    # the findings' missing practices, whatever the plan's size.
    assert len(large) == len(small) <= 14


def plan_session_more(cast, review):
    """Thirty more actions, and the rest of the questions answered."""
    from actions.findings import findings_sync
    from tests.bench.pdf import answer_all

    answer_all(session=review, user=cast.admin)
    findings_sync(session=review)
    for i in range(30):
        action_create(
            workload=cast.workload,
            session=review,
            user=cast.admin,
            title=f"Extra action {i}",
            owner=[cast.member, cast.finance, cast.admin][i % 3],
            due_on=timezone.localdate() + timedelta(days=40 * (i % 4)),
        )


def test_long_titles_wrap_instead_of_overflowing(cast, review):
    title = "Replace-" + "x" * 150 + "-everywhere"
    action_create(
        workload=cast.workload, session=review, user=cast.admin, title=title, owner=cast.member
    )
    rendered = pdf.render_pdf(pdf.plan_html(review))
    assert title in pdf_text(rendered.content).replace(" ", "")  # wrapped, all of it


# --- Layout ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paper", "size"),
    [(PlanDocument.Paper.A4, (595, 842)), (PlanDocument.Paper.LETTER, (612, 792))],
)
def test_the_paper_size_is_chosen_per_document(cast, review, planned, paper, size):
    rendered = pdf.render_pdf(pdf.plan_html(review, paper=paper))
    reader = PdfReader(io.BytesIO(rendered.content))
    assert rendered.page_count == len(reader.pages) > 4
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == size


def test_pages_are_numbered_with_a_running_header(cast, review, planned):
    rendered = pdf.render_pdf(pdf.plan_html(review, version=2))
    pages = page_texts(rendered.content)
    total = len(pages)
    assert "Checkout · Checkout review" not in pages[0]  # the cover has no header
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {total}" in text
        if number > 1:
            assert "Checkout · Checkout review" in text and "Action plan · version 2" in text


def test_fonts_are_set_in_the_page_margin_boxes_too():
    template = (settings.BASE_DIR / "templates/actions/pdf/plan.html").read_text()
    page_rule = template[template.index("@page {") : template.index("@page :first")]
    boxes = ["@top-left", "@top-right", "@bottom-left", "@bottom-right"]
    starts = [page_rule.index(box) for box in boxes] + [len(page_rule)]
    for box, start, end in zip(boxes, starts, starts[1:], strict=False):
        block = page_rule[start:end]
        assert "font-family:" in block and "font-size:" in block, box


def test_table_rows_do_not_split_across_pages():
    template = (settings.BASE_DIR / "templates/actions/pdf/plan.html").read_text()
    assert "table.data tr { break-inside: avoid; }" in template
    assert "table.data thead { display: table-header-group; }" in template


# --- Offline rendering -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/tracker.png",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
        f"{settings.SITE_URL}/static/../../../etc/passwd",
        f"{settings.SITE_URL}/media/plans/other-team.pdf",
        f"{settings.SITE_URL}/static/no-such-file.css",
    ],
)
def test_the_fetcher_refuses_anything_but_our_static_files(url):
    with pytest.raises(pdf.RefusedResource):
        pdf.StaticFilesOnlyFetcher().fetch(url)


def test_the_fetcher_serves_our_static_files_from_disk():
    response = pdf.StaticFilesOnlyFetcher().fetch(f"{settings.SITE_URL}/static/img/logo.svg")
    assert response.content_type == "image/svg+xml"
    assert response.read().startswith(b"<svg")


def test_the_fetcher_serves_collected_files_with_hashed_names(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "logo.0123abcd.svg").write_bytes(b"<svg>collected</svg>")
    response = pdf.StaticFilesOnlyFetcher().fetch(
        f"{settings.SITE_URL}/static/img/logo.0123abcd.svg"
    )
    assert response.read() == b"<svg>collected</svg>"


def test_the_fetcher_follows_an_absolute_static_url(settings):
    settings.STATIC_URL = "https://static.example.com/assets/"
    fetcher = pdf.StaticFilesOnlyFetcher()
    assert fetcher.fetch("https://static.example.com/assets/img/logo.svg").read()[:4] == b"<svg"
    with pytest.raises(pdf.RefusedResource):
        fetcher.fetch(f"{settings.SITE_URL}/static/img/logo.svg")


def test_rendering_never_opens_a_network_connection(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("rendering tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    html = (
        "<html><body><h1>Plan</h1>"
        '<img src="https://example.com/pixel.png">'
        '<link rel="stylesheet" href="https://cdn.example.com/x.css">'
        '<img src="/static/img/logo.svg" alt="logo"></body></html>'
    )
    rendered = pdf.render_pdf(html)
    assert rendered.content.startswith(b"%PDF-") and rendered.page_count == 1


def test_cancelled_actions_are_left_out(cast, review, planned):
    cancelled = planned[0]
    ActionItem.objects.filter(pk=cancelled.pk).update(status=ActionItem.Status.CANCELLED)
    html = pdf.plan_html(review)
    assert escape(cancelled.title) not in html and escape(planned[1].title) in html


def test_the_summary_and_the_text_give_the_same_saving(cast, review, planned):
    """The summary's figure and the sentence below it are the same amount, to the cent."""
    ActionItem.objects.filter(pk=planned[0].pk).update(
        monthly_saving="1650.50", currency="EUR", status=ActionItem.Status.OPEN
    )
    ActionItem.objects.filter(pk__in=[a.pk for a in planned[1:]]).update(monthly_saving=None)
    html = pdf.plan_html(review)
    assert html.count("EUR 1,650.50") >= 2, "summary figure and text"
    assert "EUR 1,651" not in html


def test_the_matrix_heading_stays_on_the_page_of_its_chart(cast, review, planned):
    pages = page_texts(pdf.render_pdf(pdf.plan_html(review)).content)
    [page] = [p for p in pages if "Business impact (rated by" in p]
    assert "Impact × effort" in page
    assert "Quick wins" in page or "Major projects" in page  # the chart's quadrant labels


def test_pillars_of_another_lens_carry_the_lens_name(cast, review, planned):
    lens = Lens.objects.create(name="House Lens", library="shared", version=1)
    pillar = Pillar.objects.create(lens=lens, ident="security", name="Security", order=0)
    question = Question.objects.create(pillar=pillar, ident="h1", order=0, title="House question")
    Choice.objects.create(question=question, ident="h1_a", order=0, title="A")
    RiskRule.objects.create(question=question, order=0, condition="default", risk="HIGH")
    SessionLens.objects.create(session=review, lens=lens, order=5)
    Answer.objects.create(session=review, question=question, risk="HIGH")
    labels = [label for label, _ in risk_counts_by_pillar(review)]
    assert "Security (House Lens)" in labels and "Security" in labels
    html = pdf.plan_html(review)
    assert "Security (House Lens)" in html
