"""A lens as plain data, the way a lens file describes it, and writing it back as a lens
file (`lens_document`, the inverse of `lensfile.read_lens_file`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

# Risk names in lens files, and the risk levels they stand for.
RISKS = {"HIGH_RISK": "HIGH", "MEDIUM_RISK": "MEDIUM", "NO_RISK": "NONE"}
RISK_NAMES = {value: key for key, value in RISKS.items()}


@dataclass
class ChoiceData:
    ident: str
    title: str
    description: str = ""
    helpful_text: str = ""
    helpful_url: str = ""
    improvement_text: str = ""
    improvement_url: str = ""
    additional_resources: list[dict[str, Any]] = field(default_factory=list)
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
    version_label: str = ""

    def digest(self) -> str:
        """A fingerprint of the content (not of the file's formatting)."""
        content = asdict(self)
        content.pop("warnings")
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()

    @property
    def question_count(self) -> int:
        return sum(len(p.questions) for p in self.pillars)

    @property
    def choice_count(self) -> int:
        return sum(len(q.choices) for p in self.pillars for q in p.questions)


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
    if lens.version_label:
        document["_version"] = lens.version_label
    if lens.description:
        document["description"] = lens.description
    document["pillars"] = pillars
    return document
