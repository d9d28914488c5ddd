"""Cursor pagination: a page is the rows after the one the cursor names, in a fixed order,
so rows added meanwhile never shift a page (as offsets would)."""

from __future__ import annotations

from operator import attrgetter
from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase

from reviews.errors import ServiceError

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class CursorPagination(PaginationBase):
    """`?cursor=<id of the last row seen>&limit=N`; `next` is the cursor of the following
    page, null on the last. `key` is the field that identifies a row to the client."""

    class Input(Schema):
        cursor: UUID | None = Field(None, description="`next` of the previous page.")
        limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)

    class Output(Schema):
        results: list[Any]
        next: str | None = Field(description="The cursor of the next page; null on the last.")

    items_attribute = "results"

    def __init__(self, *, key: str = "uuid", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.key = key
        self.value_of = attrgetter(key.replace("__", "."))

    def paginate_queryset(
        self, queryset: QuerySet, pagination: Input, request: HttpRequest, **params: Any
    ) -> dict:
        rows = queryset.order_by("pk")
        if pagination.cursor is not None:
            anchor = rows.filter(**{self.key: pagination.cursor}).values_list("pk", flat=True)
            anchor_pk = anchor.first()
            if anchor_pk is None:
                raise ServiceError("No such position in this list.", field="cursor")
            rows = rows.filter(pk__gt=anchor_pk)
        page = list(rows[: pagination.limit + 1])
        more = len(page) > pagination.limit
        page = page[: pagination.limit]
        return {"results": page, "next": str(self.value_of(page[-1])) if more else None}
