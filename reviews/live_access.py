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

from functools import cache
from uuid import UUID

from django.db import connections
from django.db.models import Model
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


@cache
def _statement(vendor: str, using: str) -> tuple[str, list[list]]:
    """The statement for a database, and per table the converters of each column."""
    connection = connections[using]
    quote = connection.ops.quote_name
    columns, converters = [], []
    for model, alias in _TABLES:
        table_converters = []
        for field in model._meta.concrete_fields:
            columns.append(f"{alias}.{quote(field.column)}")
            col = field.get_col(alias)
            table_converters.append(
                connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            )
        converters.append(table_converters)

    def table(model: type[Model]) -> str:
        return quote(model._meta.db_table)

    sql = (
        f"SELECT {', '.join(columns)} FROM {table(ReviewSession)} s"
        f" INNER JOIN {table(Workload)} w ON w.{quote('id')} = s.{quote('workload_id')}"
        f" LEFT OUTER JOIN {table(Membership)} m ON m.{quote('team_id')} = w.{quote('team_id')}"
        f" AND m.{quote('user_id')} = %s"
        f" LEFT OUTER JOIN {table(Participant)} p ON p.{quote('session_id')} = s.{quote('id')}"
        f" AND p.{quote('user_id')} = %s"
        f" WHERE s.{quote('uuid')} = %s"
    )
    return sql, converters


def _instances(row: tuple, converters: list[list], using: str) -> list[Model | None]:
    """One instance per table of the row (None where the outer join found nothing)."""
    connection = connections[using]
    found: list[Model | None] = []
    start = 0
    for (model, alias), table_converters in zip(_TABLES, converters, strict=True):
        fields = model._meta.concrete_fields
        values = list(row[start : start + len(fields)])
        start += len(fields)
        if values[fields.index(model._meta.pk)] is None:  # no row joined
            found.append(None)
            continue
        for i, (field, field_converters) in enumerate(zip(fields, table_converters, strict=True)):
            for converter in field_converters:
                values[i] = converter(values[i], field.get_col(alias), connection)
        found.append(model.from_db(using, [f.attname for f in fields], values))
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
    sql, converters = _statement(connection.vendor, using)
    uuid_field = ReviewSession._meta.get_field("uuid")
    params = [user.pk, user.pk, uuid_field.get_db_prep_value(session_uuid, connection)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        raise Http404("No such review session.")
    session, workload, membership, participant = _instances(row, converters, using)
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
