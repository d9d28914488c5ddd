"""The live questionnaire in two browsers at once: changes arrive without reloading,
concurrent toggles both persist, blind rounds hide picks until the reveal, and a stale notes
save shows the conflict."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from reviews import sessions
from reviews.models import Answer, ParkingLotItem, Participant, ParticipantRole
from tests.conftest import selected
from tests.e2e.conftest import click_in_page

pytestmark = pytest.mark.e2e

A_CHOICE = "ops_priorities_ext_cust_needs"
B_CHOICE = "ops_priorities_int_cust_needs"


@pytest.fixture
def room(live, cast, lenses):
    """Alice facilitates, Bob (operations) answers; both have the first question open."""
    review = sessions.session_create(
        workload=cast.workload, user=cast.admin, title="Live review", kind="periodic",
        review_starts_at=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.OPERATIONS)
    answer = Answer.objects.select_related("question").get(
        session=review, question__ident="priorities"
    )
    url = live.url + reverse("reviews:question", args=[review.uuid, answer.question.uuid])
    alice, bob = live.page(cast.admin), live.page(cast.member)
    for page in (alice, bob):
        page.goto(url)
        expect(page.locator("#live-status .ok")).to_have_text("● Live")
    return review, answer, alice, bob


def checkbox(page, ident):
    return page.locator(f'#choices input[type=checkbox][value="{ident}"]')


def test_a_choice_made_by_one_appears_for_the_other_without_reload(room):
    review, answer, alice, bob = room
    bob.evaluate("window.__marker = 'no reload'")
    checkbox(alice, A_CHOICE).check()
    expect(checkbox(bob, A_CHOICE)).to_be_checked()
    expect(bob.locator("#risk-badge")).to_have_text("High risk")
    assert bob.evaluate("window.__marker") == "no reload"
    expect(bob.locator("#nav")).to_contain_text("1 of 57 answered")
    assert selected(answer) == {A_CHOICE}


def test_a_change_arrives_with_its_html_and_the_other_page_fetches_nothing(room):
    """Bob's page swaps in what came with the event: no request for a fragment, and his own
    question still marked in the outline."""
    review, answer, alice, bob = room
    fetched = []
    bob.on("request", lambda request: fetched.append(request.url))
    checkbox(alice, A_CHOICE).check()
    expect(checkbox(bob, A_CHOICE)).to_be_checked()
    expect(bob.locator("#risk-badge")).to_have_text("High risk")
    expect(bob.locator("#nav")).to_contain_text("1 of 57 answered")
    current = bob.locator('#nav a[aria-current="true"]')
    expect(current).to_have_count(1)
    expect(current).to_have_attribute("href", re.compile(f"/questions/{answer.question.uuid}/$"))
    expect(bob.locator("#live-status .ok")).to_have_text("● Live")
    assert [url for url in fetched if "/fragments/" in url] == []
    # What arrived still works: Bob's own change goes through from the swapped-in box.
    checkbox(bob, B_CHOICE).check()
    expect(checkbox(alice, B_CHOICE)).to_be_checked()
    assert selected(answer) == {A_CHOICE, B_CHOICE}


def test_two_people_toggling_different_choices_at_once_both_persist(room):
    review, answer, alice, bob = room
    for page, choice in ((alice, A_CHOICE), (bob, B_CHOICE)):
        click_in_page(page, f'#choices input[type=checkbox][value="{choice}"]')
    for page in (alice, bob):
        expect(checkbox(page, A_CHOICE)).to_be_checked()
        expect(checkbox(page, B_CHOICE)).to_be_checked()
    assert selected(answer) == {A_CHOICE, B_CHOICE}


def test_keyboard_alone_answers_a_question(room):
    review, answer, alice, bob = room
    checkbox(bob, B_CHOICE).focus()
    bob.keyboard.press("Space")
    expect(checkbox(alice, B_CHOICE)).to_be_checked()
    assert selected(answer) == {B_CHOICE}


def test_blind_mode_hides_picks_until_the_reveal(room):
    review, answer, alice, bob = room
    alice.get_by_role("button", name="Answer blind").click()
    expect(bob.locator(".blind")).to_contain_text("Pick privately")
    bob.locator(".blind .pick", has_text="Understand what internal teams need").click()
    expect(bob.locator(".blind .pick[aria-pressed=true]")).to_have_count(1)
    # Alice sees that Bob has picked, not what he picked.
    expect(alice.locator(".blind")).to_contain_text("✓ Bob Member")
    expect(alice.locator(".blind .pick[aria-pressed=true]")).to_have_count(0)
    assert "Understand what internal teams need" not in alice.locator(".blind p.small").inner_text()
    alice.locator(".blind .pick", has_text="Understand what external customers depend on").click()
    alice.get_by_role("button", name="Reveal the picks").click()
    for page in (alice, bob):
        expect(page.locator("table.reveal")).to_be_visible()
        expect(page.locator("table.reveal tr.disagree")).to_have_count(2)
    alice.get_by_role("button", name="Record the agreed answer").click()
    expect(bob.locator(".blind")).to_have_count(0)
    assert selected(answer) == set()  # no majority: nothing agreed by default
    checkbox(alice, A_CHOICE).check()
    expect(checkbox(bob, A_CHOICE)).to_be_checked()


def test_a_stale_notes_save_shows_both_versions(room):
    review, answer, alice, bob = room
    for page in (alice, bob):
        page.get_by_role("link", name="Edit notes").click()
        expect(page.locator("form#notes textarea")).to_be_visible()
    bob.fill("form#notes textarea", "Bob: DR drills are quarterly.")
    bob.get_by_role("button", name="Save notes").click()
    expect(bob.locator("#notes .notes-rendered")).to_contain_text("DR drills are quarterly")
    expect(alice.locator("#notes-stale")).to_contain_text("Someone changed these notes")
    alice.fill("form#notes textarea", "Alice: backups are untested.")
    alice.get_by_role("button", name="Save notes").click()
    expect(alice.locator("#notes.conflict")).to_contain_text(
        "These notes changed while you were editing"
    )
    expect(alice.locator("#notes-theirs")).to_contain_text("Bob: DR drills are quarterly.")
    expect(alice.locator("form#notes textarea")).to_have_value("Alice: backups are untested.")
    answer.refresh_from_db()
    assert answer.notes == "Bob: DR drills are quarterly."
    alice.get_by_role("button", name="Save my version").click()
    expect(bob.locator("#notes .notes-rendered")).to_contain_text("backups are untested")


def test_followers_go_where_the_facilitator_goes(room):
    review, answer, alice, bob = room
    alice.get_by_role("link", name="Next →").click()
    expect(alice.locator("#q-title")).not_to_have_text(answer.question.title)
    alice.get_by_role("button", name="Bring everyone here").click()
    expect(bob.locator("h1")).to_have_text(alice.locator("h1").inner_text())
    expect(bob.locator("#presence")).to_contain_text("on this question")


def test_the_parking_lot_focus_notes_and_who_is_here_arrive_with_their_html(room, live, cast):
    """Bob's page swaps in what comes with each of Alice's changes and fetches no fragment;
    it marks in it what is its own: his question, his item's remove button."""
    review, answer, alice, bob = room
    # Written behind the app's back: no event tells anyone.
    ParkingLotItem.objects.create(session=review, text="Bob's own topic", created_by=cast.member)
    Participant.objects.create(session=review, user=cast.finance, role=ParticipantRole.FINANCE)
    fetched = []
    bob.on("request", lambda request: fetched.append(request.url))

    alice.fill("#parking-text", "Who pays for the CDN?")
    alice.get_by_role("button", name="Park").click()
    expect(bob.locator("#parking")).to_contain_text("Who pays for the CDN?")
    expect(bob.locator("#parking")).to_contain_text("Bob's own topic")
    # His own item's remove button, not Alice's.
    expect(bob.get_by_role("button", name="Remove “Bob's own topic”")).to_be_visible()
    expect(bob.get_by_role("button", name="Remove “Who pays for the CDN?”")).to_be_hidden()

    alice.get_by_role("button", name="Bring everyone here").click()
    expect(bob.locator("#facilitator")).to_contain_text("The facilitator is on this question")

    alice.get_by_role("link", name="Edit notes").click()
    alice.fill("form#notes textarea", "Backups are *untested*.")
    alice.get_by_role("button", name="Save notes").click()
    expect(bob.locator("#notes .notes-rendered em")).to_have_text("untested")
    expect(bob.get_by_role("link", name="Edit notes")).to_be_visible()  # Bob may edit them

    fay = live.page(cast.finance)
    fay.goto(alice.url)
    expect(fay.locator("#live-status .ok")).to_have_text("● Live")
    fay_row = bob.locator("#presence li", has_text="Fay")
    expect(fay_row).to_contain_text("on this question")
    expect(fay_row).to_have_class("online")

    expect(bob.locator("#live-status .ok")).to_have_text("● Live")
    assert [url for url in fetched if "/fragments/" in url] == []
    # What arrived still works: Bob removes his item from the swapped-in list.
    bob.get_by_role("button", name="Remove “Bob's own topic”").click()
    expect(alice.locator("#parking")).not_to_contain_text("Bob's own topic")
