"""The error every service raises when its rules refuse a request. Any app may import it."""

from __future__ import annotations

from django import forms


class ServiceError(ValueError):
    """A request that the rules refuse; the message says why, for the person who asked.
    `field`, when set, names the form field the message belongs to."""

    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        if field is not None:
            self.field = field

    def add_to(self, form: forms.Form) -> None:
        """Show the message on the form: on its field when the form has it, else on top."""
        form.add_error(self.field if self.field in form.fields else None, str(self))
