"""Celery tasks: thin, idempotent, taking ids and calling one service each."""

from __future__ import annotations

# --- The action plan: recap email (analysis and plan) -----------------------------------------

# --- The action-plan PDF ---------------------------------------------------------------------

# --- Reminders and notifications (the cadence) ------------------------------------------------
