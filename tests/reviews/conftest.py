"""Fixtures of the reviews tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reviews import events
from reviews.eventkinds import EventKind
from reviews.models import ReviewSession

Published = Callable[[ReviewSession], list[tuple[EventKind, dict[str, str]]]]


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> Published:
    """What went out to a session's live pages, as (kind, data), in order: events go through a
    fresh in-process backend, as on the embedded setup."""
    backend = events.InProcessBackend()
    monkeypatch.setattr(events, "backend", lambda: backend)

    def sent(session: ReviewSession) -> list[tuple[EventKind, dict[str, str]]]:
        return [(e.kind, e.data.as_dict()) for e in backend.history.get(str(session.uuid), ())]

    return sent
