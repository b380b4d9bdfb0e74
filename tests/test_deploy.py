"""deploy/: what can be checked without a Docker engine or a cluster.

Every file parses; the image, the compose services and the Helm values name the same image,
module and port; the instance the container uses is the one cityrank writes; no secret is
inline; and the code location loads from the exact command the image runs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from cityrank_pipeline.runner import CODE_LOCATION, DAGSTER_YAML
from cityrank_pipeline.serve import CODE_LOCATION_MODULE, free_port
from conftest import REPO

DEPLOY = REPO / "deploy"
IMAGE_SERVICES = ("code", "daemon", "webserver")


def load(path: Path):
    return yaml.safe_load(path.read_text())


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(instruction, argument) pairs, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (DEPLOY / "Dockerfile").read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs


def image_command() -> list[str]:
    [cmd] = [arg for word, arg in dockerfile_instructions() if word == "CMD"]
    return json.loads(cmd)


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def env_file_keys(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def test_every_yaml_file_parses():
    files = sorted(DEPLOY.rglob("*.yaml"))
    assert {f.relative_to(DEPLOY).as_posix() for f in files} >= {"compose.yaml", "dagster.yaml", "workspace.yaml",
                                                                 "helm/values.yaml"}
    for path in files:
        assert isinstance(load(path), dict), path


def test_image_is_python_311_slim_with_korean_fonts_and_copies_what_exists():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    runs = " ".join(arg for word, arg in instructions if word == "RUN")
    assert "fonts-noto-cjk" in runs and "pip install" in runs
    for word, arg in instructions:
        if word == "COPY":
            *sources, _ = arg.split()
            for source in sources:
                assert (REPO / source).exists(), f"COPY {source}: not in the repository"
    env = " ".join(arg for word, arg in instructions if word == "ENV")
    assert "CITYRANK_PROJECT_ROOT=/opt/cityrank" in env and "DAGSTER_HOME=/opt/dagster/home" in env


def test_one_module_everywhere():
    command = image_command()
    assert command[:3] == ["dagster", "api", "grpc"]
    assert option(command, "--module-name") == CODE_LOCATION_MODULE == CODE_LOCATION
    [location] = load(REPO / "workspace.yaml")["load_from"]
    assert location["python_module"]["module_name"] == CODE_LOCATION_MODULE
    # Schedule and sensor state is keyed by location name: one name for dev, serve and deploy.
    assert location["python_module"]["location_name"] == CODE_LOCATION_MODULE
    [grpc] = load(DEPLOY / "workspace.yaml")["load_from"]
    assert grpc["grpc_server"]["location_name"] == CODE_LOCATION_MODULE
    assert grpc["grpc_server"]["port"] == int(option(command, "--port"))
    assert f"EXPOSE {option(command, '--port')}" in (DEPLOY / "Dockerfile").read_text()


def test_compose_services_share_the_image_and_keep_secrets_in_env_files():
    compose = load(DEPLOY / "compose.yaml")
    services = compose["services"]
    assert set(services) == {"postgres", *IMAGE_SERVICES}
    images = {services[name].get("image") or compose["x-cityrank-image"]["image"] for name in IMAGE_SERVICES}
    assert len(images) == 1
    assert services["code"]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (DEPLOY / services["code"]["build"]["context"] / "deploy" / "Dockerfile").is_file()
    assert services["code"]["command"] == image_command()
    grpc = load(DEPLOY / "workspace.yaml")["load_from"][0]["grpc_server"]
    assert grpc["host"] == "code"  # the code service's name on the compose network
    for name in ("daemon", "webserver"):
        assert option(services[name]["command"], "--workspace") == "/opt/dagster/workspace.yaml"
    assert services["webserver"]["ports"] == ["127.0.0.1:3000:3000"]
    for name, service in services.items():
        assert "environment" not in service, f"{name}: settings belong in the env files"
        for env_file in service["env_file"]:
            example = DEPLOY / f"{env_file}.example"
            assert example.is_file(), f"{name} reads {env_file}: ship {example.name}"
    cityrank_env = env_file_keys(DEPLOY / "cityrank.env.example")
    assert {"CITYRANK_DATABASE_URL", "CITYRANK_DAGSTER_STORAGE_URL"} <= set(cityrank_env)
    assert cityrank_env["CITYRANK_DAGSTER_STORAGE_URL"].startswith("postgresql+psycopg2://")
    postgres_env = env_file_keys(DEPLOY / "postgres.env.example")
    assert postgres_env["POSTGRES_DB"] == cityrank_env["CITYRANK_DATABASE_URL"].rsplit("/", 1)[1]
    dagster_db = cityrank_env["CITYRANK_DAGSTER_STORAGE_URL"].rsplit("/", 1)[1]
    assert f"CREATE DATABASE {dagster_db}" in (DEPLOY / "initdb" / "10-dagster-database.sql").read_text()
    assert "deploy/*.env" in (REPO / ".gitignore").read_text()


def test_the_container_instance_is_the_one_cityrank_writes():
    written = yaml.safe_load(DAGSTER_YAML.format(max_concurrent_runs=4))
    deployed = load(DEPLOY / "dagster.yaml")
    assert deployed == written
    assert deployed["storage"]["postgres"]["postgres_url"] == {"env": "CITYRANK_DAGSTER_STORAGE_URL"}
    assert deployed["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert deployed["telemetry"] == {"enabled": False}


def test_helm_values_run_the_image_with_k8s_run_launcher_and_external_postgres():
    values = load(DEPLOY / "helm" / "values.yaml")
    [deployment] = values["dagster-user-deployments"]["deployments"]
    args = deployment["dagsterApiGrpcArgs"]
    command = image_command()
    assert option(args, "--module-name") == option(command, "--module-name")
    assert option(args, "--attribute") == option(command, "--attribute")
    assert deployment["port"] == int(option(command, "--port"))
    compose_image = load(DEPLOY / "compose.yaml")["x-cityrank-image"]["image"]
    assert deployment["image"]["repository"].endswith("/" + compose_image.split(":")[0])
    assert deployment["image"]["tag"] == compose_image.split(":")[1]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["postgresql"]["enabled"] is False and values["generatePostgresqlPasswordSecret"] is False
    assert values["global"]["postgresqlSecretName"]
    assert "postgresqlPassword" not in values["postgresql"]
    # The queue and retry policy match the instance cityrank writes.
    written = yaml.safe_load(DAGSTER_YAML.format(max_concurrent_runs=4))
    queue = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert queue["maxConcurrentRuns"] == written["run_coordinator"]["config"]["max_concurrent_runs"]
    assert queue["tagConcurrencyLimits"] == written["run_coordinator"]["config"]["tag_concurrency_limits"]
    retries = values["dagsterDaemon"]["runRetries"]
    assert retries["maxRetries"] == written["run_retries"]["max_retries"]
    assert retries["retryOnAssetOrOpFailure"] == written["run_retries"]["retry_on_asset_or_op_failure"]
    assert values["retention"]["sensor"]["purgeAfterDays"] == written["retention"]["sensor"]["purge_after_days"]
    assert values["telemetry"] == {"enabled": False}


def test_the_code_location_loads_from_the_command_the_image_runs(tmp_path):
    """Run the image's CMD (its `dagster` entry point as this interpreter's module, on a free
    local port) and ask the code server what it serves."""
    from dagster._grpc.client import DagsterGrpcClient
    from dagster_shared.serdes import deserialize_value

    command = image_command()
    port = free_port()
    command = [sys.executable, "-m", *command]
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(port)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYRANK_", "DAGSTER_"))}
    env.update(CITYRANK_PROJECT_ROOT=str(REPO), CITYRANK_HOME=str(tmp_path / "home"))
    server = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        client = DagsterGrpcClient(port=port, host="127.0.0.1")
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, server.stdout.read().decode()[-2000:]
            try:
                response = deserialize_value(client.list_repositories())
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        symbols = response.repository_symbols
        assert [s.repository_name for s in symbols] == ["__repository__"]
        assert response.executable_path  # runs start with the image's own interpreter
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert server.returncode is not None


@pytest.mark.parametrize("path", ["compose.yaml", "helm/values.yaml", "cityrank.env.example", "postgres.env.example"])
def test_no_real_secret_is_committed(path):
    text = (DEPLOY / path).read_text()
    for match in re.finditer(r"postgres(?:ql)?(?:\+\w+)?://([^:@/\s]+):([^@\s]+)@", text):
        assert match.group(2) in {"change-me", "..."}, f"{path}: a password that is not a placeholder"
