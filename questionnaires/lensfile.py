"""Reading lens files: AWS's custom-lens JSON format (schemaVersion 2021-11-01).

`read_lens_file` validates a whole file and returns a plain description of it plus warnings,
or raises LensFileError listing every problem with its place (``pillars[2].questions[4]...``).
It never touches the database. Real published lenses deviate from the written spec; what they
do is accepted with a warning (extra keys, a question-level ``url``, ``Url`` for ``url``, a
question without a ``default`` rule, a "None of these" choice named in a condition, texts
longer than AWS's documented limits). A file's own version label (``_version`` or
``version``, such as "2.0") is read and written back.

Limits. Over AWS's documented limits a file still imports, with a warning naming each place;
only beyond the hard caps is it rejected:

    what                                       AWS's limit (warning)   hard cap (rejected)
    the file                                   500 KB                  2 MB
    lens and question descriptions,            2,048 characters        10,000 characters
      a question's helpful resource text,
      a choice's description
    a choice's helpful resource and            1,024 characters        10,000 characters
      improvement plan texts, an additional
      resource's text
    additional resources                       5 links per entry       10 entries, 20 links each

Names and titles (128 characters), ids (100), URLs (2,048), the counts (10 pillars, 20
questions per pillar, 15 choices per question) and the schema version (20) are rejected
beyond AWS's limit: they are identifiers and labels, held in columns of exactly that size. A
version label longer than 32 characters is ignored with a warning.

Rejected whatever the limits, because it would break storage, the risk engine or the JSON
reader: JSON nested more than 32 levels deep, a number longer than 40 characters or beyond
the range of a float, NaN and Infinity, a NUL character or an unpaired surrogate anywhere
(PostgreSQL cannot store NUL; a lone surrogate is not text), a risk-rule condition longer than
4,096 characters or nested more than 32 levels deep, one that does not parse or names an
unknown choice, and an unknown risk.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit

from questionnaires.lensdata import (
    RISKS,
    ChoiceData,
    LensData,
    PillarData,
    QuestionData,
)
from questionnaires.risk import ConditionError, names, parse
from questionnaires.safejson import JSONRejected, load_json

SCHEMA_VERSION = "2021-11-01"

# AWS's documented limits: over them a file still imports, with a warning.
AWS_FILE_BYTES = 500 * 1024
AWS_DESCRIPTION = 2048
AWS_QUESTION_HELP = 2048
AWS_CHOICE_TEXT = 1024
AWS_RESOURCE_LINKS = 5

# Hard caps: beyond them a file is rejected.
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_TEXT = 10_000
MAX_PILLARS = 10
MAX_QUESTIONS = 20
MAX_CHOICES = 15
MAX_ID = 100
MAX_NAME = 128
MAX_URL = 2048
MAX_SCHEMA = 20
MAX_CONDITION = 4096
MAX_RESOURCES = 10
MAX_RESOURCE_LINKS = 20
MAX_LABEL = 32
# Errors and warnings listed for one file; the rest are counted.
MAX_MESSAGES = 200

RESOURCE_TYPES = ("HELPFUL_RESOURCE", "IMPROVEMENT_PLAN")
NONE_SUFFIX = "_no"
LABEL_KEYS = ("_version", "version")

KNOWN_KEYS = {
    "lens": {"schemaVersion", "name", "description", "pillars", *LABEL_KEYS},
    "pillar": {"id", "name", "questions"},
    "question": {"id", "title", "description", "helpfulResource", "choices", "riskRules"},
    "choice": {
        "id",
        "title",
        "description",
        "helpfulResource",
        "improvementPlan",
        "additionalResources",
    },
    "resource": {"displayText", "url"},
    "additional": {"type", "content"},
    "rule": {"condition", "risk"},
}
TYPE_NAMES = {
    str: "a string",
    list: "a list",
    dict: "an object",
    int: "a number",
    float: "a number",
}


class LensFileError(ValueError):
    """The file cannot be imported. `errors` lists every problem, each naming its place;
    `warnings` what was found acceptable before that."""

    def __init__(self, errors: list[str], warnings: list[str] | None = None):
        super().__init__("; ".join(errors))
        self.errors = errors
        self.warnings = warnings or []


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return TYPE_NAMES.get(type(value), type(value).__name__)


def _shown(key: str) -> str:
    """A key as messages quote it: short, and never the whole of a huge one."""
    return f"'{key[:60]}…'" if len(key) > 60 else f"'{key}'"


def _capped(messages: list[str], noun: str) -> list[str]:
    if len(messages) <= MAX_MESSAGES:
        return messages
    return [*messages[:MAX_MESSAGES], f"… and {len(messages) - MAX_MESSAGES} more {noun}"]


class _Reader:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []
        # key -> places, reported once per key so that a file with 300 extra keys stays readable
        self.extra_keys: dict[str, list[str]] = defaultdict(list)
        self.missing_plans: list[str] = []

    def error(self, place: str, message: str) -> None:
        self.errors.append(f"{place}: {message}" if place else message)

    def warn(self, place: str, message: str) -> None:
        self.warnings.append(f"{place}: {message}" if place else message)

    def check_keys(self, obj: dict, kind: str, place: str) -> None:
        for key in obj:
            if key not in KNOWN_KEYS[kind] and not (kind == "question" and key == "url"):
                if kind == "resource" and key == "Url":
                    continue
                self.extra_keys[key].append(place or "the top level")

    def text(
        self,
        obj: dict,
        key: str,
        place: str,
        limit: int,
        *,
        aws: int | None = None,
        required: bool = False,
    ) -> str | None:
        """The string at obj[key]; None when it is missing (and required) or unusable.
        Longer than `aws` (AWS's limit) is a warning; longer than `limit`, an error."""
        where = f"{place}.{key}" if place else key
        if key not in obj or obj[key] is None:
            if required:
                self.error(place, f"missing required field '{key}'")
            return None if required else ""
        value = obj[key]
        if not isinstance(value, str):
            self.error(where, f"expected a string, got {_type_name(value)}")
            return None
        if required and not value.strip():
            self.error(where, "must not be empty")
            return None
        if len(value) > limit:
            self.error(where, f"longer than {limit:,} characters ({len(value):,})")
            return None
        if aws is not None and len(value) > aws:
            self.warn(
                where,
                f"longer than AWS's limit of {aws:,} characters ({len(value):,}); imported as it is",
            )
        return value

    def items(self, obj: dict, key: str, place: str, limit: int, noun: str) -> list | None:
        where = f"{place}.{key}" if place else key
        if key not in obj:
            self.error(place, f"missing required field '{key}'")
            return None
        value = obj[key]
        if not isinstance(value, list):
            self.error(where, f"expected a list, got {_type_name(value)}")
            return None
        if not value:
            self.error(where, f"needs at least one {noun}")
            return None
        if len(value) > limit:
            # Reported once; the items are still read so that other problems show too.
            self.error(f"{where}[{limit}]", f"more than {limit} {noun}s")
        return value

    def resource(self, obj: dict, key: str, place: str, aws: int) -> tuple[str, str]:
        return self.link(obj.get(key), f"{place}.{key}", aws)

    def link(self, value: Any, where: str, aws: int) -> tuple[str, str]:
        """A {displayText, url} object: its text and its http(s) address."""
        if value is None:
            return "", ""
        if not isinstance(value, dict):
            self.error(where, f"expected an object, got {_type_name(value)}")
            return "", ""
        self.check_keys(value, "resource", where)
        text = self.text(value, "displayText", where, MAX_TEXT, aws=aws) or ""
        if "Url" in value and "url" not in value:
            self.warn(where, "'Url' read as 'url'")
            value = {**value, "url": value["Url"]}
        url = self.url(value, where)
        return text, url

    def url(self, obj: dict, place: str) -> str:
        url = self.text(obj, "url", place, MAX_URL) or ""
        if not url:
            return ""
        try:
            scheme = urlsplit(url).scheme
        except ValueError:  # for example an unclosed "[" of an IPv6 address
            scheme = ""
        if scheme not in ("http", "https"):
            self.error(f"{place}.url", "must be an http or https address")
            return ""
        return url

    def version_label(self, document: dict) -> str:
        key = next((key for key in LABEL_KEYS if key in document), None)
        if key is None or document[key] is None:
            return ""
        value = document[key]
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.warn(
                key,
                f"a version label must be a string or a number, not {_type_name(value)}; ignored",
            )
            return ""
        label = value.strip() if isinstance(value, str) else json.dumps(value)
        if len(label) > MAX_LABEL:
            self.warn(key, f"a version label longer than {MAX_LABEL} characters is ignored")
            return ""
        return label

    def read(self, document: Any) -> LensData | None:
        if not isinstance(document, dict):
            self.error("", f"the file must hold a JSON object, not {_type_name(document)}")
            return None
        self.check_keys(document, "lens", "")
        schema = self.text(document, "schemaVersion", "", MAX_SCHEMA, required=True)
        if schema and schema != SCHEMA_VERSION:
            self.warn("schemaVersion", f"is {schema!r}; this importer reads {SCHEMA_VERSION!r}")
        name = self.text(document, "name", "", MAX_NAME, required=True)
        description = self.text(document, "description", "", MAX_TEXT, aws=AWS_DESCRIPTION)
        label = self.version_label(document)
        pillars = []
        pillar_ids: dict[str, str] = {}
        question_ids: dict[str, str] = {}
        for p_index, raw in enumerate(
            self.items(document, "pillars", "", MAX_PILLARS, "pillar") or []
        ):
            place = f"pillars[{p_index}]"
            pillar = self.read_pillar(raw, place, pillar_ids, question_ids)
            if pillar:
                pillars.append(pillar)
        for key, places in self.extra_keys.items():
            more = f" and {len(places) - 1} more places" if len(places) > 1 else ""
            self.warn(places[0], f"extra key {_shown(key)} ignored{more}")
        if self.missing_plans:
            more = (
                f" (and {len(self.missing_plans) - 1} more)" if len(self.missing_plans) > 1 else ""
            )
            self.warn(self.missing_plans[0], f"choice has no improvementPlan{more}")
        if self.errors:
            return None
        return LensData(
            name=name or "",
            description=description or "",
            schema_version=schema or SCHEMA_VERSION,
            pillars=pillars,
            warnings=self.warnings,
            version_label=label,
        )

    def read_pillar(
        self, raw: Any, place: str, pillar_ids: dict, question_ids: dict
    ) -> PillarData | None:
        if not isinstance(raw, dict):
            self.error(place, f"expected an object, got {_type_name(raw)}")
            return None
        self.check_keys(raw, "pillar", place)
        ident = self.text(raw, "id", place, MAX_ID, required=True)
        name = self.text(raw, "name", place, MAX_NAME, required=True)
        if ident is not None:
            if ident in pillar_ids:
                self.error(
                    f"{place}.id", f"duplicate pillar id '{ident}' (also {pillar_ids[ident]})"
                )
            pillar_ids.setdefault(ident, place)
        questions = []
        for q_index, raw_question in enumerate(
            self.items(raw, "questions", place, MAX_QUESTIONS, "question") or []
        ):
            question = self.read_question(
                raw_question, f"{place}.questions[{q_index}]", question_ids
            )
            if question:
                questions.append(question)
        if ident is None or name is None:
            return None
        return PillarData(ident=ident, name=name, questions=questions)

    def read_question(self, raw: Any, place: str, question_ids: dict) -> QuestionData | None:
        if not isinstance(raw, dict):
            self.error(place, f"expected an object, got {_type_name(raw)}")
            return None
        self.check_keys(raw, "question", place)
        ident = self.text(raw, "id", place, MAX_ID, required=True)
        title = self.text(raw, "title", place, MAX_NAME, required=True)
        description = self.text(raw, "description", place, MAX_TEXT, aws=AWS_DESCRIPTION)
        helpful_text, helpful_url = self.resource(raw, "helpfulResource", place, AWS_QUESTION_HELP)
        if "url" in raw:
            url = self.url(raw, place)
            if url and not helpful_url:
                helpful_url = url
                self.warn(
                    place,
                    "question-level 'url' is not part of the format; kept as its helpful resource link",
                )
            elif url:
                self.warn(
                    place,
                    "question-level 'url' ignored: the question already has a helpful resource link",
                )
        if ident is not None:
            if ident in question_ids:
                self.error(
                    f"{place}.id", f"duplicate question id '{ident}' (also {question_ids[ident]})"
                )
            question_ids.setdefault(ident, place)

        choices: list[ChoiceData] = []
        choice_ids: dict[str, str] = {}
        for c_index, raw_choice in enumerate(
            self.items(raw, "choices", place, MAX_CHOICES, "choice") or []
        ):
            choice = self.read_choice(raw_choice, f"{place}.choices[{c_index}]", choice_ids)
            if choice:
                choices.append(choice)

        rules = self.read_rules(raw, place, choice_ids, choices, ident or "")
        if ident is None or title is None or description is None:
            return None
        return QuestionData(
            ident=ident,
            title=title,
            description=description,
            helpful_text=helpful_text,
            helpful_url=helpful_url,
            choices=choices,
            rules=rules,
        )

    def read_choice(self, raw: Any, place: str, choice_ids: dict) -> ChoiceData | None:
        if not isinstance(raw, dict):
            self.error(place, f"expected an object, got {_type_name(raw)}")
            return None
        self.check_keys(raw, "choice", place)
        ident = self.text(raw, "id", place, MAX_ID, required=True)
        title = self.text(raw, "title", place, MAX_NAME, required=True)
        description = self.text(raw, "description", place, MAX_TEXT, aws=AWS_DESCRIPTION)
        helpful_text, helpful_url = self.resource(raw, "helpfulResource", place, AWS_CHOICE_TEXT)
        improvement_text, improvement_url = self.resource(
            raw, "improvementPlan", place, AWS_CHOICE_TEXT
        )
        if "improvementPlan" not in raw:
            self.missing_plans.append(place)
        additional = self.additional_resources(raw, place)
        if ident is not None:
            if ident in choice_ids:
                self.error(
                    f"{place}.id", f"duplicate choice id '{ident}' (also {choice_ids[ident]})"
                )
            choice_ids.setdefault(ident, place)
        if ident is None or title is None or description is None:
            return None
        return ChoiceData(
            ident=ident,
            title=title,
            description=description,
            helpful_text=helpful_text,
            helpful_url=helpful_url,
            improvement_text=improvement_text,
            improvement_url=improvement_url,
            additional_resources=additional,
            is_none_of_these=ident.endswith(NONE_SUFFIX),
        )

    def additional_resources(self, raw: dict, place: str) -> list[dict[str, Any]]:
        """A choice's additionalResources, kept in AWS's shape: entries with a type and a
        content list of links ({displayText, url})."""
        where = f"{place}.additionalResources"
        value = raw.get("additionalResources")
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(where, f"expected a list, got {_type_name(value)}")
            return []
        if len(value) > MAX_RESOURCES:
            self.error(f"{where}[{MAX_RESOURCES}]", f"more than {MAX_RESOURCES} entries")
            return []
        entries = []
        for index, entry in enumerate(value):
            entry_place = f"{where}[{index}]"
            if not isinstance(entry, dict):
                self.error(entry_place, f"expected an object, got {_type_name(entry)}")
                continue
            self.check_keys(entry, "additional", entry_place)
            kind = self.text(entry, "type", entry_place, MAX_ID)
            if kind and kind not in RESOURCE_TYPES:
                self.warn(
                    f"{entry_place}.type", f"{kind!r} is not one of {', '.join(RESOURCE_TYPES)}"
                )
            content = entry.get("content") or []
            if not isinstance(content, list):
                self.error(f"{entry_place}.content", f"expected a list, got {_type_name(content)}")
                continue
            if len(content) > MAX_RESOURCE_LINKS:
                self.error(
                    f"{entry_place}.content[{MAX_RESOURCE_LINKS}]",
                    f"more than {MAX_RESOURCE_LINKS} links",
                )
                continue
            if len(content) > AWS_RESOURCE_LINKS:
                self.warn(
                    f"{entry_place}.content",
                    f"more than AWS's limit of {AWS_RESOURCE_LINKS} links ({len(content)})",
                )
            links = []
            for link_index, link in enumerate(content):
                link_place = f"{entry_place}.content[{link_index}]"
                if not isinstance(link, dict):
                    self.error(link_place, f"expected an object, got {_type_name(link)}")
                    continue
                text, url = self.link(link, link_place, AWS_CHOICE_TEXT)
                if "url" not in link and "Url" not in link:
                    self.error(link_place, "missing required field 'url'")
                links.append({"displayText": text, "url": url} if text else {"url": url})
            entries.append({"type": kind, "content": links} if kind else {"content": links})
        return entries

    def read_rules(
        self, raw: dict, place: str, choice_ids: dict, choices: list[ChoiceData], question_id: str
    ) -> list[tuple[str, str]]:
        where = f"{place}.riskRules"
        if "riskRules" not in raw:
            self.error(place, "missing required field 'riskRules'")
            return []
        value = raw["riskRules"]
        if not isinstance(value, list):
            self.error(where, f"expected a list, got {_type_name(value)}")
            return []
        rules = []
        has_default = False
        for r_index, rule in enumerate(value):
            rule_place = f"{where}[{r_index}]"
            if not isinstance(rule, dict):
                self.error(rule_place, f"expected an object, got {_type_name(rule)}")
                continue
            self.check_keys(rule, "rule", rule_place)
            condition = self.text(rule, "condition", rule_place, MAX_CONDITION, required=True)
            risk = self.text(rule, "risk", rule_place, 20, required=True)
            if risk is not None and risk not in RISKS:
                self.error(
                    f"{rule_place}.risk",
                    f"'{risk}' is not one of {', '.join(RISKS)}",
                )
                risk = None
            if condition is None:
                continue
            try:
                node = parse(condition)
            except ConditionError as exc:
                shown = condition if len(condition) <= 200 else f"{condition[:200]}…"
                self.error(f"{rule_place}.condition", f"cannot parse {shown!r}: {exc}")
                continue
            if condition.strip() == "default":
                has_default = True
            for name in sorted(names(node)):
                if name.endswith(NONE_SUFFIX):
                    self.warn(
                        f"{rule_place}.condition",
                        f"names the 'None of these' choice '{name}'",
                    )
                    if (
                        name not in choice_ids
                        and question_id
                        and name == f"{question_id}{NONE_SUFFIX}"
                    ):
                        choices.append(
                            ChoiceData(ident=name, title="None of these", is_none_of_these=True)
                        )
                        choice_ids[name] = f"{place}.choices[{len(choices) - 1}]"
                        self.warn(place, f"added the implicit 'None of these' choice '{name}'")
                if name not in choice_ids:
                    self.error(f"{rule_place}.condition", f"names unknown choice '{name}'")
            if risk is not None:
                rules.append((condition, RISKS[risk]))
        if not has_default and value:
            self.warn(place, "no 'default' rule: when no rule matches, the risk is HIGH")
        return rules


def read_lens_file(raw: bytes | str) -> LensData:
    """Validate and read a lens file. Raises LensFileError listing every problem."""
    size = len(raw.encode("utf-8", "surrogatepass")) if isinstance(raw, str) else len(raw)
    if size > MAX_FILE_BYTES:
        raise LensFileError(
            [
                f"the file is {size / 1024 / 1024:.1f} MB; "
                f"the limit is {MAX_FILE_BYTES // 1024 // 1024} MB"
            ]
        )
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise LensFileError([f"the file is not UTF-8 text (byte {exc.start + 1})"]) from None
    try:
        document = load_json(raw)
    except JSONRejected as exc:
        raise LensFileError(_capped(exc.errors, "errors")) from None
    reader = _Reader()
    if size > AWS_FILE_BYTES:
        reader.warn(
            "",
            f"the file is {size // 1024:,} KB, over AWS's limit of {AWS_FILE_BYTES // 1024} KB; "
            "imported all the same",
        )
    lens = reader.read(document)
    warnings = _capped(reader.warnings, "warnings")
    if lens is None:
        raise LensFileError(_capped(reader.errors, "errors"), warnings)
    lens.warnings = warnings
    return lens
