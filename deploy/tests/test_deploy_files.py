"""docker-compose.yml and the gateway configuration, checked without a Docker engine."""

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy/Dockerfile"
SERVICES = ("portal-svc", "presence-svc", "dispatch-svc", "chat-svc", "webhook-svc")


def compose_plugin_available() -> bool:
    docker = shutil.which("docker")
    return bool(docker) and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0


def test_compose_file_is_valid():
    if compose_plugin_available():
        subprocess.run(["docker", "compose", "-f", str(COMPOSE), "config", "-q"], check=True)
    else:  # the official compose-spec JSON Schema, shipped inside check-jsonschema
        subprocess.run(
            [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
            check=True,
        )


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_every_service_is_built_from_the_one_dockerfile_with_its_name(compose):
    for name in SERVICES:
        build = compose["services"][name]["build"]
        assert build["context"] == "."
        assert ROOT / build["dockerfile"] == DOCKERFILE
        assert build["args"] == {"SERVICE": name}
    assert not list(ROOT.glob("services/*/Dockerfile")), "one Dockerfile for all: deploy/Dockerfile"


def test_dockerfile_installs_and_runs_only_the_named_service():
    text = DOCKERFILE.read_text()
    assert "ARG SERVICE" in text
    assert 'uv sync --frozen --no-dev --package "$SERVICE"' in text
    # CMD runs the package named after the service (portal-svc -> portal_svc): each must be runnable.
    assert "os.environ['SERVICE'].replace('-', '_')" in text
    for name in SERVICES:
        assert (ROOT / "services" / name / "src" / name.replace("-", "_") / "__main__.py").exists()


def test_kubernetes_images_are_the_ones_the_dockerfile_builds():
    for name in SERVICES:
        manifest = (ROOT / "deploy/k8s" / f"{name}.yaml").read_text()
        assert f"image: assistline/{name}:" in manifest


def test_services_wait_for_healthy_backends_and_the_gateway_for_healthy_services(compose):
    services = compose["services"]
    for name in SERVICES:
        assert services[name]["depends_on"] == {
            "rabbitmq": {"condition": "service_healthy"},
            "mongodb": {"condition": "service_healthy"},
        }
    assert set(services["gateway"]["depends_on"]) == set(SERVICES)
    for name in ("rabbitmq", "mongodb", "gateway"):
        assert "healthcheck" in services[name]


def test_dispatch_can_be_scaled(compose):
    dispatch = compose["services"]["dispatch-svc"]
    assert "container_name" not in dispatch and "ports" not in dispatch


def test_mongodb_runs_as_a_replica_set(compose):
    assert "--replSet" in compose["services"]["mongodb"]["command"]
    assert "replicaSet=rs0" in compose["x-service-env"]["MONGODB_URL"]


def test_gateway_template_routes_every_service_and_websockets():
    template = (ROOT / "deploy/gateway/assistline.conf.template").read_text()
    for name in ("portal", "presence", "dispatch", "chat", "webhook"):
        assert f"location /api/{name}/" in template
        assert f"${{{name.upper()}_SVC_SERVERS}}" in template
    assert "proxy_set_header Upgrade $http_upgrade;" in template


def test_rendered_local_gateway_config_is_accepted_by_nginx(tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.skip("nginx is not installed")
    spec = importlib.util.spec_from_file_location("local_gateway", ROOT / "deploy/local/gateway.py")
    assert spec and spec.loader
    gateway = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gateway)
    render = gateway.render

    upstreams = {n: ["127.0.0.1:9"] for n in ("portal", "presence", "dispatch", "chat", "webhook")}
    conf = render(tmp_path, 18080, upstreams)
    result = subprocess.run([nginx, "-t", "-c", str(conf)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
