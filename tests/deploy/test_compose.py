"""docker-compose.yml, read without a Docker engine: schema, health, pins, wiring, secrets."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator

from imageuploader.cli import parser as cli_parser
from imageuploader.settings import Settings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LONG_RUNNING = {"postgres", "redis", "minio", "web", "worker"}
ONE_SHOT = {"minio-setup", "migrate"}
APP_SERVICES = {"web", "worker", "migrate"}
SECRETS = ("POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD", "SECRET_KEY", "ADMIN_PASSWORD")
# Checked so that a refreshed schema is a deliberate change (see README.md here).
SCHEMA_SHA256 = "d549057ebc2925f39f62799eab0db7b9e2c18b35b6c00595199116da3ed10e64"

# Compose interpolation: $$ escapes, ${VAR}, ${VAR:-default}, ${VAR-default},
# ${VAR:?error}, ${VAR?error}, ${VAR:+alt}, ${VAR+alt} and bare $VAR.
_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariable(Exception):
    """A `${VAR:?message}` whose variable is unset or empty: compose stops here."""


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def _interpolate_str(text: str, env: Mapping[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        op, arg = match["op"] or "", match["arg"] or ""
        value = env.get(name)
        missing = not value if op.startswith(":") else value is None
        if op.endswith("?") and missing:
            raise MissingVariable(f"{name}: {arg}")
        if op.endswith("-"):
            return arg if missing else str(value)
        if op.endswith("+"):
            return "" if missing else arg
        return value or ""

    return _VARIABLE.sub(substitute, text)


def interpolate(node: Any, env: Mapping[str, str]) -> Any:
    """Resolve variables in every string of a parsed compose document."""
    if isinstance(node, str):
        return _interpolate_str(node, env)
    if isinstance(node, Mapping):
        return {interpolate(k, env): interpolate(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(item, env) for item in node]
    return node


def used_variables(compose: dict[str, Any]) -> dict[str, set[str]]:
    """Each variable the compose file reads, with the operators it is read with."""
    found: dict[str, set[str]] = {}
    for text in _strings(compose):
        for match in _VARIABLE.finditer(text):
            name = match["braced"] or match["bare"]
            if name:
                found.setdefault(name, set()).add(match["op"] or "")
    return found


def filled_env(env_example: Mapping[str, str]) -> dict[str, str]:
    """.env.example with every secret filled in as the docs say."""
    env = dict(env_example)
    for name in SECRETS:
        env[name] = secrets.token_urlsafe(48)
    return env


def published_host_ports(service: dict[str, Any]) -> set[int]:
    ports: set[int] = set()
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            ports.add(int(entry["published"]))
            continue
        parts = str(entry).split("/")[0].split(":")
        assert len(parts) >= 2, f"port {entry!r} is not published on a fixed host port"
        ports.add(int(parts[-2]))
    return ports


def is_pinned(image: str) -> bool:
    if "@sha256:" in image:
        return True
    name, _, tag = image.rpartition(":")
    return bool(name) and "/" not in tag and tag not in ("", "latest")


# --- the file as a whole -------------------------------------------------------


def test_vendored_schema_is_the_recorded_one() -> None:
    digest = hashlib.sha256((HERE / "compose-spec.json").read_bytes()).hexdigest()
    assert digest == SCHEMA_SHA256


def _schema_validator() -> Draft202012Validator:
    schema = json.loads((HERE / "compose-spec.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_compose_file_matches_the_compose_specification_schema(compose: dict[str, Any]) -> None:
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in _schema_validator().iter_errors(compose)
    ]
    assert not errors, "\n".join(errors)


def test_schema_check_is_not_vacuous(compose: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(compose))
    broken["services"]["web"]["depends_on"]["migrate"]["condition"] = "service_done"
    broken["services"]["worker"]["helthcheck"] = {"test": ["NONE"]}
    assert len(list(_schema_validator().iter_errors(broken))) >= 2


def test_no_version_key_and_no_latest_tags(compose: dict[str, Any]) -> None:
    assert "version" not in compose
    assert ":latest" not in (ROOT / "docker-compose.yml").read_text()


def test_every_service_is_classified(services: dict[str, Any]) -> None:
    # A new service must be added to LONG_RUNNING or ONE_SHOT to get its checks.
    assert set(services) == LONG_RUNNING | ONE_SHOT


# --- health and restarts -------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LONG_RUNNING))
def test_long_running_services_have_healthcheck_and_restart_policy(
    services: dict[str, Any], name: str
) -> None:
    service = services[name]
    assert service.get("restart") == "unless-stopped"
    check = service.get("healthcheck", {})
    assert not check.get("disable", False)
    test = check.get("test")
    assert isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL"), test
    assert test[1:], "empty healthcheck"


@pytest.mark.parametrize("name", sorted(ONE_SHOT))
def test_one_shot_services_do_not_restart(services: dict[str, Any], name: str) -> None:
    assert services[name].get("restart") == "no"


def test_python_healthchecks_compile(services: dict[str, Any]) -> None:
    for name, service in services.items():
        test = service.get("healthcheck", {}).get("test", [])
        if test[1:3] == ["python", "-c"]:
            compile(test[3], f"<{name} healthcheck>", "exec")


def test_web_healthcheck_asks_the_app_health_endpoint(services: dict[str, Any]) -> None:
    code = services["web"]["healthcheck"]["test"][-1]
    assert "http://127.0.0.1:8000/health" in code


# --- images ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LONG_RUNNING | ONE_SHOT))
def test_images_are_pinned_or_built(services: dict[str, Any], name: str) -> None:
    service = services[name]
    if name in APP_SERVICES:
        assert service["build"]["context"] == "."
        assert service["build"].get("dockerfile", "Dockerfile") == "Dockerfile"
        if "image" in service:
            assert is_pinned(service["image"]), service["image"]
    else:
        assert "build" not in service
        assert is_pinned(service["image"]), f"{name}: {service['image']!r} is not pinned"


def test_is_pinned() -> None:
    assert is_pinned("redis:7.4.1-alpine")
    assert is_pinned("localhost:5000/app:1.2")
    assert is_pinned("minio/mc@sha256:" + "0" * 64)
    assert not is_pinned("redis")
    assert not is_pinned("redis:latest")
    assert not is_pinned("localhost:5000/app")


# --- start-up order --------------------------------------------------------------


@pytest.mark.parametrize("name", ["web", "worker"])
def test_app_waits_for_healthy_dependencies_and_one_shots(
    services: dict[str, Any], name: str
) -> None:
    assert services[name]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "minio": {"condition": "service_healthy"},
        "minio-setup": {"condition": "service_completed_successfully"},
        "migrate": {"condition": "service_completed_successfully"},
    }


def test_one_shots_wait_for_what_they_use(services: dict[str, Any]) -> None:
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["minio-setup"]["depends_on"] == {"minio": {"condition": "service_healthy"}}


def test_app_commands_exist(services: dict[str, Any]) -> None:
    assert services["web"]["command"][:2] == ["imageuploader", "serve"]
    assert services["migrate"]["command"] == ["imageuploader", "migrate"]
    for name in ("web", "migrate"):
        argv = [_interpolate_str(arg, {}) for arg in services[name]["command"][1:]]
        cli_parser().parse_args(argv)  # exits on an unknown command or a bad value


def test_web_runs_several_processes(services: dict[str, Any]) -> None:
    argv = [_interpolate_str(arg, {}) for arg in services["web"]["command"][1:]]
    assert cli_parser().parse_args(argv).workers >= 2
    argv = [_interpolate_str(arg, {"WEB_WORKERS": "5"}) for arg in services["web"]["command"][1:]]
    assert cli_parser().parse_args(argv).workers == 5
    command = services["worker"]["command"]
    assert command[:2] == ["dramatiq", "workers.main"]
    assert (ROOT / "workers" / "main.py").is_file()


def test_worker_can_be_scaled(services: dict[str, Any]) -> None:
    worker = services["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker


def test_only_web_and_minio_publish_ports(services: dict[str, Any]) -> None:
    published = {name: published_host_ports(s) for name, s in services.items() if "ports" in s}
    assert published == {"web": {8000}, "minio": {9000, 9001}}


# --- configuration ---------------------------------------------------------------


def test_app_services_share_one_environment(
    services: dict[str, Any], env_example: dict[str, str]
) -> None:
    assert services["worker"]["environment"] == services["web"]["environment"]
    assert services["migrate"]["environment"] == services["web"]["environment"]
    web = interpolate(services["web"]["environment"], filled_env(env_example))
    assert web["APP_ENV"] == "production"
    assert web["HOST"] == "0.0.0.0"  # noqa: S104 - listening inside the container
    assert web["BROKER_URL"] == "redis://redis:6379/0"
    assert web["CACHE_URL"] == "redis://redis:6379/1"
    assert urlsplit(web["DATABASE_URL"]).hostname == "postgres"
    assert urlsplit(web["STORAGE_URL"]).hostname == "minio"
    assert urlsplit(web["STORAGE_URL"]).query == "secure=false"


def test_buckets_are_four_and_match_the_bucket_setup(
    services: dict[str, Any], env_example: dict[str, str]
) -> None:
    buckets = services["web"]["environment"]["S3_BUCKETS"].split(",")
    assert buckets == ["images-0", "images-1", "images-2", "images-3"]
    command = services["minio-setup"]["command"]
    assert command[0] == "mb"
    assert "--ignore-existing" in command
    created = [arg.removeprefix("local/") for arg in command if arg.startswith("local/")]
    assert created == buckets
    resolved = interpolate(services, filled_env(env_example))
    host = urlsplit(resolved["minio-setup"]["environment"]["MC_HOST_local"])
    assert (host.hostname, host.port) == ("minio", 9000)
    minio = resolved["minio"]["environment"]
    assert (host.username, host.password) == (
        minio["MINIO_ROOT_USER"],
        minio["MINIO_ROOT_PASSWORD"],
    )


def test_public_url_is_a_port_minio_publishes_on_this_host(
    services: dict[str, Any], env_example: dict[str, str]
) -> None:
    raw = services["web"]["environment"]["S3_PUBLIC_URL"]
    for env in ({}, env_example):  # the compose default and the documented value
        url = urlsplit(_interpolate_str(raw, env))
        assert url.scheme == "http"
        assert url.hostname in ("localhost", "127.0.0.1")
        assert url.port in published_host_ports(services["minio"])


def test_every_compose_variable_is_in_env_example(
    compose: dict[str, Any], env_example: dict[str, str]
) -> None:
    missing = sorted(set(used_variables(compose)) - set(env_example))
    assert not missing, f"add to .env.example: {missing}"


@pytest.mark.parametrize("name", SECRETS)
def test_secrets_are_required_and_left_empty_in_the_example(
    compose: dict[str, Any], env_example: dict[str, str], name: str
) -> None:
    assert used_variables(compose)[name] == {":?"}, f"use ${{{name}:?message}}"
    assert env_example[name] == "", f"{name} must be generated, not copied from the example"
    with pytest.raises(MissingVariable, match=name):
        interpolate(compose, env_example | {n: "x" * 48 for n in SECRETS if n != name})


def test_interpolation() -> None:
    env = {"SET": "v", "EMPTY": ""}
    assert _interpolate_str("$$HOME ${SET} $SET ${NOPE:-d} ${EMPTY:-d} ${EMPTY-d}", env) == (
        "$HOME v v d d "
    )
    assert _interpolate_str("${SET:+alt}${NOPE:+alt}", env) == "alt"
    with pytest.raises(MissingVariable, match="EMPTY: say so"):
        _interpolate_str("${EMPTY:?say so}", env)


def test_the_app_accepts_the_stack_environment(
    compose: dict[str, Any], env_example: dict[str, str]
) -> None:
    resolved = interpolate(compose, filled_env(env_example))
    environment = {k: str(v) for k, v in resolved["services"]["web"]["environment"].items()}
    settings = Settings.from_env(environment)
    assert settings.production
    assert settings.s3_buckets == ("images-0", "images-1", "images-2", "images-3")
    assert settings.host == "0.0.0.0"  # noqa: S104 - listening inside the container
    assert settings.port == 8000
    minio = resolved["services"]["minio"]["environment"]
    storage = urlsplit(settings.storage_url)
    assert (storage.username, storage.password) == (
        minio["MINIO_ROOT_USER"],
        minio["MINIO_ROOT_PASSWORD"],
    )
    postgres = resolved["services"]["postgres"]["environment"]
    database = urlsplit(settings.database_url)
    assert database.username == postgres["POSTGRES_USER"]
    assert database.password == postgres["POSTGRES_PASSWORD"]
    assert database.path == "/" + postgres["POSTGRES_DB"]


# --- volumes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "target"),
    [("postgres", "/var/lib/postgresql/data"), ("redis", "/data"), ("minio", "/data")],
)
def test_state_lives_in_declared_named_volumes(
    compose: dict[str, Any], name: str, target: str
) -> None:
    declared = set(compose.get("volumes") or {})
    mounts = {}
    for entry in compose["services"][name].get("volumes", []):
        source, _, rest = entry.partition(":")
        mounts[rest.split(":")[0]] = source
    assert target in mounts, f"{name} keeps {target} in its container layer"
    assert mounts[target] in declared


def test_every_named_volume_used_is_declared(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    for service in compose["services"].values():
        for entry in service.get("volumes", []):
            source = entry["source"] if isinstance(entry, dict) else entry.split(":")[0]
            if not source.startswith((".", "/", "~")):
                assert source in declared, f"volume {source!r} is not declared"
