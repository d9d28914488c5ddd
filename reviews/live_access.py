"""Access to a live session in one query: the live page's hottest ways in (a choice toggle, a
fragment, the event stream) ask on every click.

The rules are those of `reviews.access` (a member of the session's team sees it, a
participant takes part in their role); this reads the same rows, the session with its
workload, the user's membership of its team and their participation, as one statement with
two filtered joins, and answers the same `SessionAccess`.

The statement is written once, from the models' own tables and columns, and each row is read
back through the fields' own conversions: building and compiling the same ORM query on every
click cost more than the database took to answer it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from uuid import UUID

from django.db import connections
from django.db.models import Model
from django.db.models.expressions import Col
from django.http import Http404

from reviews.access import SessionAccess
from reviews.models import Membership, Participant, ReviewSession, Workload

# (model, alias in the statement), in the order of the columns.
_TABLES: list[tuple[type[Model], str]] = [
    (ReviewSession, "s"),
    (Workload, "w"),
    (Membership, "m"),
    (Participant, "p"),
]


@dataclass(frozen=True)
class _Table:
    """How one table's columns in the statement become an instance of its model."""

    model: type[Model]
    attnames: list[str]
    pk: int  # the primary key's position: None there when the outer join found no row
    # Per column: its expression and the conversions of its values (backend's, then field's).
    columns: list[tuple[Col, list]]

    def instance(self, values: list, using: str) -> Model | None:
        if values[self.pk] is None:
            return None
        connection = connections[using]
        for i, (col, converters) in enumerate(self.columns):
            for converter in converters:
                values[i] = converter(values[i], col, connection)
        return self.model.from_db(using, self.attnames, values)


@cache
def _statement(using: str) -> tuple[str, list[_Table]]:
    """The statement for a database, and how each of its tables is read back."""
    connection = connections[using]
    quote = connection.ops.quote_name
    selected, tables = [], []
    for model, alias in _TABLES:
        fields = model._meta.concrete_fields
        selected += [f"{alias}.{quote(field.column)}" for field in fields]
        columns = []
        for field in fields:
            col = field.get_col(alias)
            columns.append(
                (col, connection.ops.get_db_converters(col) + col.get_db_converters(connection))
            )
        tables.append(
            _Table(model, [f.attname for f in fields], fields.index(model._meta.pk), columns)
        )

    def table(model: type[Model]) -> str:
        return quote(model._meta.db_table)

    sql = (
        f"SELECT {', '.join(selected)} FROM {table(ReviewSession)} s"
        f" INNER JOIN {table(Workload)} w ON w.{quote('id')} = s.{quote('workload_id')}"
        f" LEFT OUTER JOIN {table(Membership)} m ON m.{quote('team_id')} = w.{quote('team_id')}"
        f" AND m.{quote('user_id')} = %s"
        f" LEFT OUTER JOIN {table(Participant)} p ON p.{quote('session_id')} = s.{quote('id')}"
        f" AND p.{quote('user_id')} = %s"
        f" WHERE s.{quote('uuid')} = %s"
    )
    return sql, tables


def _instances(row: tuple, tables: list[_Table], using: str) -> list[Model | None]:
    """One instance per table of the row (None where the outer join found nothing)."""
    found, start = [], 0
    for table in tables:
        end = start + len(table.attnames)
        found.append(table.instance(list(row[start:end]), using))
        start = end
    return found


def session_access(user, session_uuid: UUID | str, *, guests: bool = False) -> SessionAccess:
    """The session, the user's membership of its team and their participation, in one
    query; Http404 as `reviews.access.session_for_user` gives it: outside the team, unless
    `guests` is set and the user is a guest of this session."""
    if not getattr(user, "is_authenticated", False):
        raise Http404("No such review session.")
    try:
        session_uuid = UUID(str(session_uuid))
    except ValueError:
        raise Http404("No such review session.") from None
    using = ReviewSession.objects.db
    connection = connections[using]
    sql, tables = _statement(using)
    uuid_field = ReviewSession._meta.get_field("uuid")
    params = [user.pk, user.pk, uuid_field.get_db_prep_value(session_uuid, connection)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        raise Http404("No such review session.")
    session, workload, membership, participant = _instances(row, tables, using)
    assert isinstance(session, ReviewSession) and isinstance(workload, Workload)
    session.workload = workload
    if membership is None and not (
        guests and isinstance(participant, Participant) and participant.is_guest
    ):
        # Outside the team: only a guest of this session, on the session's own pages.
        raise Http404("No such review session.")
    if isinstance(participant, Participant):
        participant.session = session
    return SessionAccess(
        session=session,
        membership=membership if isinstance(membership, Membership) else None,
        participant=participant if isinstance(participant, Participant) else None,
    )
