"""The locks agree with pyproject.toml: every dependency is pinned, with hashes, to a version
inside its range, and the runtime lock (the Docker image) pins what the full lock (make
install, CI) pins. `make lock` refreshes both."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)\s*\\?$")


def pins(name: str) -> dict[str, Version]:
    """Package -> version of a lock file, checking that each pin carries hashes."""
    result: dict[str, Version] = {}
    lines = (ROOT / name).read_text().splitlines()
    for i, line in enumerate(lines):
        match = PIN.match(line)
        if match:
            assert lines[i + 1].strip().startswith("--hash=sha256:"), f"{name}: {line} has no hash"
            result[canonicalize_name(match[1])] = Version(match[2])
    assert result, f"{name} pins nothing"
    return result


def requirements(*, extra: str | None = None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return [Requirement(line) for line in listed]


@pytest.mark.parametrize(
    ("lock", "wanted"),
    [
        ("requirements.lock", requirements() + requirements(extra="dev")),
        ("requirements-runtime.lock", requirements()),
    ],
)
def test_every_dependency_is_pinned_inside_its_range(lock, wanted):
    pinned = pins(lock)
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement} is missing from {lock}: run make lock"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"{lock} pins {name}=={pinned[name]}, outside {requirement}: run make lock"
        )


def test_the_runtime_lock_pins_the_same_versions_as_the_full_lock():
    full, runtime = pins("requirements.lock"), pins("requirements-runtime.lock")
    assert {name: full.get(name) for name in runtime} == runtime
    assert not {"pytest", "playwright", "ruff", "pip-tools"} & set(runtime)


def test_install_ci_and_the_image_install_from_the_locks():
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet --require-hashes -r $(LOCK)" in makefile
    assert "LOCK := requirements.lock" in makefile
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --require-hashes -r requirements-runtime.lock" in dockerfile
    assert "make test" in (ROOT / ".ci" / "run").read_text()
