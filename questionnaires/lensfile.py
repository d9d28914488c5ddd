"""Reading and writing lens files: AWS's custom-lens JSON format (schemaVersion 2021-11-01).

`read_lens_file` validates a whole file and returns a plain description of it plus warnings,
or raises LensFileError listing every problem with its place (``pillars[2].questions[4]...``).
It never touches the database. Real published lenses deviate from the written spec; what they
do is accepted with a warning (extra keys, a question-level ``url``, ``Url`` for ``url``, a
question without a ``default`` rule, a "None of these" choice named in a condition).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from questionnaires.risk import ConditionError, names, parse

SCHEMA_VERSION = "2021-11-01"
MAX_FILE_BYTES = 500 * 1024
MAX_PILLARS = 10
MAX_QUESTIONS = 20
MAX_CHOICES = 15
MAX_ID = 100
MAX_NAME = 128
MAX_DESCRIPTION = 2048
MAX_QUESTION_HELP = 2048
MAX_CHOICE_TEXT = 1024
MAX_URL = 2048
RISKS = {"HIGH_RISK": "HIGH", "MEDIUM_RISK": "MEDIUM", "NO_RISK": "NONE"}
RISK_NAMES = {value: key for key, value in RISKS.items()}
NONE_SUFFIX = "_no"

KNOWN_KEYS = {
    "lens": {"schemaVersion", "name", "description", "pillars"},
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
    """The file cannot be imported. `errors` lists every problem, each naming its place."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass
class ChoiceData:
    ident: str
    title: str
    description: str = ""
    helpful_text: str = ""
    helpful_url: str = ""
    improvement_text: str = ""
    improvement_url: str = ""
    additional_resources: list = field(default_factory=list)
    is_none_of_these: bool = False


@dataclass
class QuestionData:
    ident: str
    title: str
    description: str = ""
    helpful_text: str = ""
    helpful_url: str = ""
    choices: list[ChoiceData] = field(default_factory=list)
    rules: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class PillarData:
    ident: str
    name: str
    questions: list[QuestionData] = field(default_factory=list)


@dataclass
class LensData:
    name: str
    description: str
    schema_version: str
    pillars: list[PillarData]
    warnings: list[str] = field(default_factory=list)

    def digest(self) -> str:
        """A fingerprint of the content (not of the file's formatting)."""
        content = asdict(self)
        content.pop("warnings")
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return TYPE_NAMES.get(type(value), type(value).__name__)


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
        self, obj: dict, key: str, place: str, limit: int, *, required: bool = False
    ) -> str | None:
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
            self.error(where, f"longer than {limit} characters ({len(value)})")
            return None
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

    def resource(self, obj: dict, key: str, place: str, limit: int) -> tuple[str, str]:
        where = f"{place}.{key}"
        value = obj.get(key)
        if value is None:
            return "", ""
        if not isinstance(value, dict):
            self.error(where, f"expected an object, got {_type_name(value)}")
            return "", ""
        self.check_keys(value, "resource", where)
        text = self.text(value, "displayText", where, limit) or ""
        if "Url" in value and "url" not in value:
            self.warn(where, "'Url' read as 'url'")
            value = {**value, "url": value["Url"]}
        url = self.url(value, where)
        return text, url

    def url(self, obj: dict, place: str) -> str:
        url = self.text(obj, "url", place, MAX_URL) or ""
        if url and urlsplit(url).scheme not in ("http", "https"):
            self.error(f"{place}.url", "must be an http or https address")
            return ""
        return url

    def read(self, document: Any) -> LensData | None:
        if not isinstance(document, dict):
            self.error("", f"the file must hold a JSON object, not {_type_name(document)}")
            return None
        self.check_keys(document, "lens", "")
        schema = self.text(document, "schemaVersion", "", 20, required=True)
        if schema and schema != SCHEMA_VERSION:
            self.warn("schemaVersion", f"is {schema!r}; this importer reads {SCHEMA_VERSION!r}")
        name = self.text(document, "name", "", MAX_NAME, required=True)
        description = self.text(document, "description", "", MAX_DESCRIPTION)
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
            self.warn(places[0], f"extra key '{key}' ignored{more}")
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
        description = self.text(raw, "description", place, MAX_DESCRIPTION)
        helpful_text, helpful_url = self.resource(raw, "helpfulResource", place, MAX_QUESTION_HELP)
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
        description = self.text(raw, "description", place, MAX_DESCRIPTION)
        helpful_text, helpful_url = self.resource(raw, "helpfulResource", place, MAX_CHOICE_TEXT)
        improvement_text, improvement_url = self.resource(
            raw, "improvementPlan", place, MAX_CHOICE_TEXT
        )
        if "improvementPlan" not in raw:
            self.missing_plans.append(place)
        additional = raw.get("additionalResources", [])
        if not isinstance(additional, list):
            self.error(
                f"{place}.additionalResources", f"expected a list, got {_type_name(additional)}"
            )
            additional = []
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
            condition = self.text(rule, "condition", rule_place, 4096, required=True)
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
                self.error(f"{rule_place}.condition", f"cannot parse {condition!r}: {exc}")
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
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > MAX_FILE_BYTES:
        raise LensFileError(
            [f"the file is {size // 1024} KB; the limit is {MAX_FILE_BYTES // 1024} KB"]
        )
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise LensFileError([f"the file is not UTF-8 text (byte {exc.start + 1})"]) from None
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise LensFileError(
            [f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"]
        ) from None
    reader = _Reader()
    lens = reader.read(document)
    if lens is None:
        raise LensFileError(reader.errors)
    return lens


def _resource(text: str, url: str) -> dict | None:
    out = {}
    if text:
        out["displayText"] = text
    if url:
        out["url"] = url
    return out or None


def lens_document(lens: LensData) -> dict:
    """A lens as a lens-file JSON document (the inverse of read_lens_file)."""
    pillars = []
    for pillar in lens.pillars:
        questions = []
        for question in pillar.questions:
            q: dict[str, Any] = {"id": question.ident, "title": question.title}
            if question.description:
                q["description"] = question.description
            if resource := _resource(question.helpful_text, question.helpful_url):
                q["helpfulResource"] = resource
            q["choices"] = []
            for choice in question.choices:
                c: dict[str, Any] = {"id": choice.ident, "title": choice.title}
                if choice.description:
                    c["description"] = choice.description
                if resource := _resource(choice.helpful_text, choice.helpful_url):
                    c["helpfulResource"] = resource
                if resource := _resource(choice.improvement_text, choice.improvement_url):
                    c["improvementPlan"] = resource
                if choice.additional_resources:
                    c["additionalResources"] = choice.additional_resources
                q["choices"].append(c)
            q["riskRules"] = [
                {"condition": condition, "risk": RISK_NAMES[risk]}
                for condition, risk in question.rules
            ]
            questions.append(q)
        pillars.append({"id": pillar.ident, "name": pillar.name, "questions": questions})
    document: dict[str, Any] = {"schemaVersion": lens.schema_version, "name": lens.name}
    if lens.description:
        document["description"] = lens.description
    document["pillars"] = pillars
    return document
