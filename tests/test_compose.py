"""The production packaging: docker-compose.yml, the Dockerfile and deploy/, checked without
a Docker engine against the code they run (the CLI, Settings, TasklaneConfig)."""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from api import health
from tasklane import cli
from tasklane.config import Settings, TasklaneConfig

REPO = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
EXAMPLE_CONFIG = REPO / "deploy" / "config.example.toml"
SECRET_NAME = re.compile(r"PASSWORD|PWD|SECRET|TOKEN", re.IGNORECASE)
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}, ${VAR:+alt}
INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}")


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def interpolate(value: str) -> str:
    """What Compose would substitute with no variables set (required ones get a stand-in)."""

    def substitute(match: re.Match[str]) -> str:
        op, arg = match["op"], match["arg"]
        if op in (":-", "-"):
            return arg
        if op in (":?", "?"):
            return "required-value"
        return ""

    return INTERPOLATION.sub(substitute, value).replace("$$", "$")


def argv(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(a) for a in command]


def seconds(duration: str | int | float) -> float:
    """A Compose duration such as 40s, 1m30s or 1h."""
    if isinstance(duration, int | float):
        return float(duration)
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(float(n) * units[u] for n, u in parts)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, line continuations joined, comments dropped."""
    logical, pending = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        logical.append(pending.strip())
        pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def parse_tasklane(args: list[str]) -> argparse.Namespace:
    """Parse a `tasklane ...` command line with the real CLI parser, without running it."""

    class Parsed(Exception):
        pass

    original = argparse.ArgumentParser.parse_args

    def capture(self: argparse.ArgumentParser, *a: Any, **kw: Any) -> argparse.Namespace:
        # Stop right after parsing: `api` would serve and `worker` would connect to Temporal.
        raise Parsed(original(self, *a, **kw))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(argparse.ArgumentParser, "parse_args", capture)
        try:
            cli.main(args)
        except Parsed as parsed:
            return parsed.args[0]
        except SystemExit as exit_:
            pytest.fail(f"`tasklane {shlex.join(args)}` is rejected by tasklane.cli (exit {exit_})")
    pytest.fail(f"`tasklane {shlex.join(args)}` did not reach argument parsing")


def tasklane_commands() -> list[tuple[str, list[str]]]:
    """Every `tasklane ...` command line in the compose file and the Dockerfile's CMD."""
    found = [
        (name, argv(svc["command"]))
        for name, svc in services().items()
        if "command" in svc and argv(svc["command"])[:1] == ["tasklane"]
    ]
    for instruction, arguments in dockerfile_instructions():
        if instruction == "CMD":
            found.append(("Dockerfile CMD", yaml.safe_load(arguments)))
    return found


def test_compose_file_is_a_mapping_of_services() -> None:
    data = compose()
    assert isinstance(data, dict)
    assert {"postgresql", "temporal", "temporal-ui", "redis", "api", "worker"} <= set(
        data["services"]
    )


def test_every_service_has_an_image_or_a_build() -> None:
    bare = [
        name for name, svc in services().items() if not svc.get("image") and not svc.get("build")
    ]
    assert bare == []


def test_pulled_images_are_pinned_to_a_version() -> None:
    for name, svc in services().items():
        if svc.get("build"):
            continue
        repository, _, tag = svc["image"].rpartition(":")
        assert repository and re.search(r"\d", tag), f"{name}: {svc['image']} has no version tag"
        assert tag != "latest" and "$" not in tag, f"{name}: {svc['image']}"


def test_api_and_worker_run_their_subcommands() -> None:
    assert argv(services()["api"]["command"])[:2] == ["tasklane", "api"]
    assert argv(services()["worker"]["command"])[:2] == ["tasklane", "worker"]


def test_every_tasklane_command_parses_with_the_real_cli() -> None:
    commands = tasklane_commands()
    assert len(commands) >= 3
    for where, args in commands:
        parsed = parse_tasklane(args[1:])
        assert parsed.command == args[1], where


def test_api_listens_where_it_is_published_and_probed() -> None:
    api = services()["api"]
    parsed = parse_tasklane(argv(api["command"])[1:])
    assert parsed.host == "0.0.0.0"  # reachable from outside the container
    container_ports = {str(p).rsplit(":", 1)[-1] for p in api["ports"]}
    assert container_ports == {str(parsed.port)}
    probe = " ".join(argv(api["healthcheck"]["test"]))
    assert f"127.0.0.1:{parsed.port}/readyz" in probe
    assert "/readyz" in {getattr(r, "path", None) for r in health.router.routes}
    assert "curl" not in probe and "wget" not in probe  # python:3.11-slim ships neither


def test_worker_serves_metrics_where_it_is_probed() -> None:
    worker = services()["worker"]
    port = environment(worker)["TASKLANE_WORKER_METRICS_PORT"]
    probe = " ".join(argv(worker["healthcheck"]["test"]))
    assert f"127.0.0.1:{port}/metrics" in probe
    assert "ports" not in worker  # scaled workers would fight over a published port


def test_every_tasklane_variable_is_a_settings_field() -> None:
    fields = set(Settings.model_fields)
    for name, svc in services().items():
        for key in environment(svc):
            if key.startswith("TASKLANE_"):
                field = key.removeprefix("TASKLANE_").lower()
                assert field in fields, f"{name}: {key} is not read by tasklane.config.Settings"


def test_tasklane_settings_validate_and_point_at_compose_services() -> None:
    names = set(services())
    for name in ("api", "worker"):
        env = environment(services()[name])
        values = {k.removeprefix("TASKLANE_").lower(): interpolate(v) for k, v in env.items()}
        settings = Settings.model_validate(values)
        assert settings.temporal_address.rsplit(":", 1)[0] in names
        assert urlsplit(settings.redis_url).hostname in names
        mounts = {m["target"] for m in services()[name]["volumes"] if isinstance(m, dict)}
        assert str(settings.config) in mounts, f"{name}: TASKLANE_CONFIG is not mounted"


def test_workers_use_the_namespace_temporal_creates_and_waits_for() -> None:
    temporal = services()["temporal"]
    namespace = environment(services()["worker"])["TASKLANE_TEMPORAL_NAMESPACE"]
    assert environment(services()["api"])["TASKLANE_TEMPORAL_NAMESPACE"] == namespace
    assert environment(temporal)["DEFAULT_NAMESPACE"] == namespace
    assert namespace in " ".join(argv(temporal["healthcheck"]["test"]))


def test_secrets_are_required_variables_without_defaults() -> None:
    checked = 0
    for name, svc in services().items():
        for key, value in environment(svc).items():
            if SECRET_NAME.search(key):
                match = INTERPOLATION.fullmatch(value)
                assert match and match["op"] == ":?", f"{name}: {key} must be ${{VAR:?message}}"
                assert match["arg"].strip(), f"{name}: {key} needs a message saying what to set"
                checked += 1
    assert environment(services()["postgresql"])["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:?"
    )
    assert checked >= 2  # PostgreSQL's own password and Temporal's copy of it


def test_config_file_is_a_required_read_only_mount() -> None:
    for name in ("api", "worker"):
        (mount,) = [
            m for m in services()[name]["volumes"] if isinstance(m, dict) and m["type"] == "bind"
        ]
        assert mount["read_only"] is True
        match = INTERPOLATION.fullmatch(mount["source"])
        assert match and match["op"] == ":?", f"{name}: the config path must be required"


def test_worker_can_scale() -> None:
    worker = services()["worker"]
    assert "container_name" not in worker
    assert not worker.get("ports")
    assert "hostname" not in worker


def test_worker_gets_time_to_drain_before_sigkill() -> None:
    worker = services()["worker"]
    env = environment(worker)
    drain_s = float(env.get("TASKLANE_GRACEFUL_SHUTDOWN_S", Settings().graceful_shutdown_s))
    assert seconds(worker["stop_grace_period"]) > drain_s


def test_healthy_dependencies_have_healthchecks() -> None:
    svcs = services()
    for name, svc in svcs.items():
        depends = svc.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
        for target, spec in depends.items():
            assert spec["condition"] == "service_healthy", f"{name} -> {target}"
            check = svcs[target].get("healthcheck")
            assert check and not check.get("disable"), f"{target} has no healthcheck"
    for name in ("api", "worker"):
        assert {"temporal", "redis"} <= set(svcs[name]["depends_on"])
    assert "postgresql" in svcs["temporal"]["depends_on"]


def test_relative_bind_mounts_exist_in_the_repo() -> None:
    temporal = services()["temporal"]
    mounts = [v for v in temporal["volumes"] if isinstance(v, str) and v.startswith("./")]
    assert mounts
    for volume in mounts:
        source, target = volume.split(":")[:2]
        assert (REPO / source).is_file(), source
        dynamic = yaml.safe_load((REPO / source).read_text())
        assert all(isinstance(v, list) and "value" in v[0] for v in dynamic.values())
    path = environment(temporal)["DYNAMIC_CONFIG_FILE_PATH"]
    assert f"/etc/temporal/{path}" in [m.split(":")[1] for m in mounts]


def test_dockerfile_installs_the_project_on_python_311_as_non_root() -> None:
    instructions = dockerfile_instructions()
    bases = [args.split()[0] for ins, args in instructions if ins == "FROM"]
    assert bases and all(b.startswith("python:3.11") for b in bases), bases
    runs = [args for ins, args in instructions if ins == "RUN"]
    installs = [r for r in runs if re.search(r"pip install (\S+ )*\.(\s|$)", r)]
    assert installs, "no `pip install .`"
    assert not any(re.search(r"\.\[[^]]*\b(dev|local)\b", r) for r in runs)  # no extras
    final_stage = instructions[max(i for i, (ins, _) in enumerate(instructions) if ins == "FROM") :]
    users = [args.split(":")[0] for ins, args in final_stage if ins == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert ("EXPOSE", "8000") in instructions


def test_dockerignore_keeps_the_sources_and_drops_local_state() -> None:
    patterns = [
        line.strip().lstrip("/")
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        result = False
        for pattern in patterns:
            negated = pattern.startswith("!")
            if fnmatch(path, pattern.lstrip("!")):
                result = not negated
        return result

    sources = (
        "pyproject.toml",
        "README.md",
        "tasklane",
        "workflows",
        "activities",
        "api",
        "worker",
    )
    for needed in sources:
        assert not ignored(needed), needed
    for dropped in (".git", ".venv", "tests", ".env", "config.toml", "deploy"):
        assert ignored(dropped), dropped


def test_example_config_loads() -> None:
    with EXAMPLE_CONFIG.open("rb") as f:
        config = TasklaneConfig.model_validate(tomllib.load(f))
    assert config.allow_private_targets is False
    assert config.api_keys and config.signing.secrets and config.task_types
    # Deployed unedited, the example must let no one in: no key is the hash of a guessable
    # token (the comment's own `TOKEN` placeholder included).
    guessable = ("", "TOKEN", "token", "changeme", "change-me", "secret", "test", "dev")
    assert all(config.authenticate(token) is None for token in guessable)


@pytest.mark.skipif(
    importlib.util.find_spec("check_jsonschema") is None, reason="check-jsonschema not installed"
)
def test_compose_file_follows_the_compose_specification() -> None:
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec"]
    done = subprocess.run([*command, str(COMPOSE_FILE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def _docker_compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _docker_compose_available(), reason="no `docker compose` plugin")
def test_docker_compose_accepts_the_file() -> None:
    def config(**variables: str) -> subprocess.CompletedProcess[str]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **variables}
        command = ["docker", "compose", "-f", str(COMPOSE_FILE), "config", "--quiet"]
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO)

    done = config(POSTGRES_PASSWORD="x", TASKLANE_CONFIG_FILE=str(EXAMPLE_CONFIG))
    assert done.returncode == 0, done.stderr
    # Without the required variables Compose refuses, naming what to set.
    missing = config()
    assert missing.returncode != 0 and "POSTGRES_PASSWORD" in missing.stderr
