"""The Dockerfile and .dockerignore, parsed: stages, pins, user, health, what gets copied."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_SOURCES = ["src/", "workers/", "templates/", "static/", "piccolo_conf.py", "pyproject.toml"]


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str

    def exec_form(self) -> list[str]:
        """The JSON array of CMD/ENTRYPOINT/HEALTHCHECK CMD; fails on the shell form."""
        text = self.args
        if self.keyword == "HEALTHCHECK":
            text = text[text.index("CMD ") + len("CMD ") :]
        value = json.loads(text)
        assert isinstance(value, list)
        return value


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions in order, with continuation lines joined and comments dropped."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue  # Docker drops these even inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        line = pending + stripped
        pending = ""
        keyword, _, args = line.partition(" ")
        instructions.append(Instruction(keyword.upper(), " ".join(args.split())))
    assert not pending, "Dockerfile ends inside a continued line"
    return instructions


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    result: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            result.append([])
        assert result, f"{instruction.keyword} before the first FROM"
        result[-1].append(instruction)
    return result


def from_image(instruction: Instruction) -> tuple[str, str | None]:
    words = [w for w in instruction.args.split() if not w.startswith("--")]
    alias = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
    return words[0], alias


@pytest.fixture(scope="module")
def dockerfile() -> list[Instruction]:
    return parse_dockerfile((ROOT / "Dockerfile").read_text())


@pytest.fixture(scope="module")
def runtime(dockerfile: list[Instruction]) -> list[Instruction]:
    return stages(dockerfile)[-1]


def test_multi_stage_with_pinned_bases(dockerfile: list[Instruction]) -> None:
    froms = [i for i in dockerfile if i.keyword == "FROM"]
    assert len(froms) >= 2
    aliases: set[str] = set()
    for instruction in froms:
        image, alias = from_image(instruction)
        if image not in aliases:
            name, _, tag = image.rpartition(":")
            assert name and tag and tag != "latest", f"unpinned base {image!r}"
            assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", image), image
        if alias:
            aliases.add(alias)


def test_base_python_satisfies_requires_python(dockerfile: list[Instruction]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    low = re.fullmatch(r">=(\d+)\.(\d+)", project["requires-python"])
    assert low, project["requires-python"]
    for instruction in dockerfile:
        if instruction.keyword == "FROM":
            version = re.search(r"python:(\d+)\.(\d+)", instruction.args)
            assert version
            assert (int(version[1]), int(version[2])) >= (int(low[1]), int(low[2]))


def test_builder_uses_pinned_uv_and_the_lock(dockerfile: list[Instruction]) -> None:
    builder = stages(dockerfile)[0]
    runs = [i.args for i in builder if i.keyword == "RUN"]
    assert any(re.search(r"pip install .*\buv==\d+\.\d+\.\d+\b", run) for run in runs)
    syncs = [run for run in runs if "uv sync" in run]
    assert syncs and all("--frozen" in run and "--no-dev" in run for run in syncs)


def test_builder_copies_what_the_project_build_reads_before_installing_it(
    dockerfile: list[Instruction],
) -> None:
    """hatchling fails the build when a force-included folder is missing."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wheel = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]
    needed = {*wheel["packages"], *wheel.get("force-include", {})}
    builder = stages(dockerfile)[0]
    project_sync = max(
        i for i, step in enumerate(builder) if step.keyword == "RUN" and "uv sync" in step.args
    )
    copied = {
        source.rstrip("/")
        for step in builder[:project_sync]
        if step.keyword == "COPY"
        for source in shlex.split(step.args)[:-1]
    }
    for path in needed:
        assert any(path == c or path.startswith(c + "/") for c in copied), path


def test_runtime_copies_the_venv_and_the_sources(runtime: list[Instruction]) -> None:
    copies = [shlex.split(i.args) for i in runtime if i.keyword == "COPY"]
    assert ["--from=builder", "/app/.venv", "/app/.venv"] in copies
    copied = {src for words in copies if not words[0].startswith("--") for src in words[:-1]}
    assert set(RUNTIME_SOURCES) <= copied


def _ignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _ignored(path: str) -> bool:
    """Docker's rules, simplified: the last matching pattern wins, `!` re-includes."""
    ignored = False
    for pattern in _ignore_patterns():
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/").removeprefix("**/")
        if fnmatch(path.rstrip("/"), pattern):
            ignored = not negate
    return ignored


def test_copied_sources_exist_and_are_in_the_build_context(dockerfile: list[Instruction]) -> None:
    for instruction in dockerfile:
        if instruction.keyword != "COPY" or instruction.args.startswith("--from"):
            continue
        for source in shlex.split(instruction.args)[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: no such file"
            assert not _ignored(source), f"COPY {source}: excluded by .dockerignore"


def test_dockerignore_keeps_local_state_and_secrets_out() -> None:
    for path in (".venv", "data", ".git", ".env", ".pytest_cache", ".ruff_cache"):
        assert _ignored(path), f".dockerignore lets {path} into the build context"
    assert not _ignored(".env.example")
    assert not _ignored("README.md")  # hatchling reads it when installing the project


def test_runs_as_a_non_root_user(runtime: list[Instruction]) -> None:
    users = [i.args for i in runtime if i.keyword == "USER"]
    assert users, "the runtime stage has no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")


def test_healthcheck_asks_health_with_the_stdlib(runtime: list[Instruction]) -> None:
    checks = [i for i in runtime if i.keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    command = checks[0].exec_form()
    assert command[:2] == ["python", "-c"]
    assert "urllib.request" in command[2] and "/health" in command[2]
    compile(command[2], "<HEALTHCHECK>", "exec")


def test_serves_on_all_interfaces_port_8000(runtime: list[Instruction]) -> None:
    assert any(i.keyword == "EXPOSE" and i.args.split() == ["8000"] for i in runtime)
    env = {}
    for instruction in runtime:
        if instruction.keyword == "ENV":
            for pair in shlex.split(instruction.args):
                key, _, value = pair.partition("=")
                env[key] = value
    assert env["HOST"] == "0.0.0.0"  # noqa: S104 - listening inside the container
    assert env["PATH"].startswith("/app/.venv/bin:")
    cmds = [i for i in runtime if i.keyword == "CMD"]
    assert cmds[-1].exec_form() == ["imageuploader", "serve"]


def test_parser() -> None:
    parsed = parse_dockerfile('# c\nFROM a:1 AS b\nRUN x \\\n  && y\n\nCMD ["z"]\n')
    assert [(i.keyword, i.args) for i in parsed] == [
        ("FROM", "a:1 AS b"),
        ("RUN", "x && y"),
        ("CMD", '["z"]'),
    ]
    assert from_image(parsed[0]) == ("a:1", "b")
