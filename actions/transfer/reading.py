"""Reading a workload document: every value checked with its place (a JSON path such as
``sessions[0].answers[3].notes``), so that the importer writes only what it has checked and
refuses the document, listing every problem, when anything is wrong."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, overload

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils import timezone

from actions.transfer import FORMAT, SCHEMA_VERSION
from questionnaires.safejson import JSONRejected, load_json
from reviews.errors import ServiceError

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
# No list in a document is longer (answers' history, actions, ...).
MAX_ITEMS = 20_000
MAX_TEXT = 100_000
# Errors listed for one document; the rest are counted.
MAX_ERRORS = 200


class TransferRefused(ServiceError):
    """The document cannot be imported; `errors` lists every problem with its place."""

    def __init__(self, errors: list[str]) -> None:
        if len(errors) > MAX_ERRORS:
            errors = [*errors[:MAX_ERRORS], f"… and {len(errors) - MAX_ERRORS} more problems"]
        super().__init__("; ".join(errors))
        self.errors = errors


def document_read(raw: bytes | str) -> dict[str, Any]:
    """The uploaded file as a workload document of the version this code reads; raises
    TransferRefused (and nothing else) otherwise."""
    size = len(raw.encode("utf-8", "surrogatepass")) if isinstance(raw, str) else len(raw)
    if size > MAX_DOCUMENT_BYTES:
        raise TransferRefused([f"the file is larger than {MAX_DOCUMENT_BYTES // 2**20} MB"])
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TransferRefused([f"the file is not UTF-8 text (byte {exc.start + 1})"]) from None
    try:
        document = load_json(raw)
    except JSONRejected as exc:
        raise TransferRefused(exc.errors) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise TransferRefused([f"format: not a Pillarwise workload export (expected “{FORMAT}”)"])
    version = document.get("schemaVersion")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        raise TransferRefused(
            [
                f"schemaVersion: the file says {str(version)[:20]!r}; this version of "
                f"Pillarwise reads schema version {SCHEMA_VERSION}"
            ]
        )
    return document


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        str: "a string",
        int: "a number",
        float: "a number",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


class Reader:
    """Checks values, collecting errors; each getter returns a safe value (or None) even when
    it records an error, so reading goes on and every problem is found in one pass."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self._people: dict[str, Any] = {}
        self.unmatched: set[str] = set()

    def error(self, place: str, message: str) -> None:
        self.errors.append(f"{place}: {message}")

    def mark(self) -> int:
        return len(self.errors)

    def clean_since(self, mark: int) -> bool:
        return len(self.errors) == mark

    def obj(self, value: Any, place: str) -> dict | None:
        if not isinstance(value, dict):
            self.error(place, f"expected an object, found {_kind(value)}")
            return None
        return value

    def items(self, parent: dict, key: str, place: str, *, required: bool = False) -> list:
        value = parent.get(key)
        if value is None and not required:
            return []
        where = f"{place}.{key}" if place else key
        if not isinstance(value, list):
            self.error(where, f"expected a list, found {_kind(value)}")
            return []
        if len(value) > MAX_ITEMS:
            self.error(where, f"{len(value):,} entries; at most {MAX_ITEMS:,} are read")
            return []
        return value

    def objects(self, parent: dict, key: str, place: str) -> list[tuple[str, dict]]:
        """The list's objects, each with its place."""
        out = []
        for i, item in enumerate(self.items(parent, key, place)):
            where = f"{place}.{key}[{i}]" if place else f"{key}[{i}]"
            if (checked := self.obj(item, where)) is not None:
                out.append((where, checked))
        return out

    def text(
        self,
        obj: dict,
        key: str,
        place: str,
        *,
        max_length: int = MAX_TEXT,
        required: bool = False,
    ) -> str:
        value = obj.get(key)
        where = f"{place}.{key}"
        if value is None or value == "":
            if required:
                self.error(where, "missing")
            return ""
        if not isinstance(value, str):
            self.error(where, f"expected a string, found {_kind(value)}")
            return ""
        if len(value) > max_length:
            self.error(where, f"{len(value):,} characters; at most {max_length:,}")
            return ""
        return value

    def enum(
        self, obj: dict, key: str, place: str, values: list[str], *, blank: bool = False
    ) -> str:
        value = obj.get(key)
        if (value is None or value == "") and blank:
            return ""
        if not isinstance(value, str) or value not in values:
            shown = f"{repr(value)[:60]} is not" if value is not None else "missing: expected"
            self.error(f"{place}.{key}", f"{shown} one of {', '.join(values)}")
            return values[0]
        return value

    def boolean(self, obj: dict, key: str, place: str) -> bool:
        value = obj.get(key, False)
        if not isinstance(value, bool):
            self.error(f"{place}.{key}", f"expected true or false, found {_kind(value)}")
            return False
        return value

    @overload
    def integer(
        self, obj: dict, key: str, place: str, *, low: int, high: int, default: int
    ) -> int: ...

    @overload
    def integer(
        self, obj: dict, key: str, place: str, *, low: int, high: int, default: None = None
    ) -> int | None: ...

    def integer(
        self, obj: dict, key: str, place: str, *, low: int, high: int, default: int | None = None
    ) -> int | None:
        value = obj.get(key)
        if value is None:
            return default
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            self.error(f"{place}.{key}", f"expected a whole number from {low} to {high}")
            return default
        return value

    def moment(self, obj: dict, key: str, place: str, *, required: bool = False) -> datetime | None:
        value = self.text(obj, key, place, max_length=40, required=required)
        if not value:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.error(f"{place}.{key}", f"“{value}” is not an ISO 8601 date and time")
            return None
        try:
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment, timezone.get_default_timezone())
            moment.astimezone(UTC)
        except (OverflowError, ValueError):
            self.error(f"{place}.{key}", f"“{value}” is out of range")
            return None
        return moment

    def day(self, obj: dict, key: str, place: str) -> date | None:
        value = self.text(obj, key, place, max_length=20)
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.error(f"{place}.{key}", f"“{value}” is not an ISO 8601 date (YYYY-MM-DD)")
            return None

    def url(self, obj: dict, key: str, place: str, *, max_length: int = 500) -> str:
        value = self.text(obj, key, place, max_length=max_length)
        if value:
            try:
                URLValidator()(value)
            except ValidationError:
                self.error(f"{place}.{key}", f"“{value[:80]}” is not a web address")
                return ""
        return value

    def money(self, obj: dict, key: str, place: str) -> Decimal | None:
        value = obj.get(key)
        if value is None or value == "":
            return None
        try:
            amount = Decimal(str(value)) if isinstance(value, str | int) else None
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or not 0 <= amount < Decimal("1e10"):
            self.error(f"{place}.{key}", "expected an amount from 0 to 9,999,999,999.99")
            return None
        return amount.quantize(Decimal("0.01"))

    def ident(self, obj: dict, key: str, place: str, *, required: bool = True) -> uuid.UUID | None:
        """A document id (a UUID)."""
        value = self.text(obj, key, place, max_length=36, required=required)
        if not value:
            return None
        try:
            return uuid.UUID(value)
        except ValueError:
            self.error(f"{place}.{key}", f"“{value}” is not an id (a UUID)")
            return None

    def strings(self, obj: dict, key: str, place: str, *, max_length: int = 100) -> list[str]:
        value = obj.get(key) or []
        if (
            not isinstance(value, list)
            or len(value) > 100
            or not all(isinstance(item, str) and len(item) <= max_length for item in value)
        ):
            self.error(f"{place}.{key}", "expected a list of up to 100 short strings")
            return []
        return value

    def person(self, obj: dict, key: str, place: str) -> Any:
        """The account with this email here (None when there is none, or no email)."""
        value = self.text(obj, key, place, max_length=254)
        if not value:
            return None
        email = value.strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            self.error(f"{place}.{key}", f"“{value[:80]}” is not an email address")
            return None
        if email not in self._people:
            self._people[email] = (
                get_user_model()
                .objects.filter(email__iexact=email, is_active=True)
                .order_by("pk")
                .first()
            )
        if self._people[email] is None:
            self.unmatched.add(email)
        return self._people[email]
