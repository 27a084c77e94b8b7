"""The `observe` profile (Prometheus, Grafana) and its files, checked without Docker: the
configuration parses, scrapes every service where it listens, and the dashboard asks only
for series the services really expose."""

import json
import re
from pathlib import Path

import pytest
import yaml

from testkit.snapshots import snapshot_settings

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("portal-svc", "presence-svc", "dispatch-svc", "chat-svc", "webhook-svc")
DASHBOARD = ROOT / "deploy/grafana/dashboards/assistline.json"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def exposed_families() -> dict[str, str]:
    """Every metric family the services register (their bootstraps, no backend needed): name
    (as the client library names it: a counter without `_total`) -> type."""
    import importlib

    families: dict[str, str] = {}
    for service in SERVICES:
        package = service.replace("-", "_")
        settings = importlib.import_module(f"{package}.config").Settings
        bootstrap = importlib.import_module(f"{package}.bootstrap").bootstrap
        registry = bootstrap(snapshot_settings(settings)).runtime.metrics.registry
        families |= {family.name: family.type for family in registry.collect()}
    return families


# The series a family of each type exposes, by suffix: what a query may name.
SERIES_OF_TYPE = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("_sum", "_count", ""),
}


def dashboard_panels() -> list[dict]:
    """Every panel, those inside collapsed rows included."""
    panels = []
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        panels += [panel, *panel.get("panels", [])]
    return panels


def queried_series(expr: str) -> list[str]:
    # A name followed by `(` is a function or an aggregation, never a series.
    return re.findall(r"\b(assistline_\w+)\b(?!\s*\()", expr)


def test_observe_profile_starts_prometheus_and_grafana_with_the_project_files(compose):
    services = compose["services"]
    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["observe"], name
        for volume in services[name]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), volume
    # The default `docker compose up` starts neither.
    assert all("profiles" not in services[name] for name in (*SERVICES, "gateway", "rabbitmq", "mongodb"))


def test_prometheus_scrapes_every_replica_of_every_service_on_its_port(compose):
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    # Every service compose builds from the one Dockerfile is scraped, and nothing else.
    built = {name for name, service in compose["services"].items() if "build" in service}
    assert set(jobs) == built >= set(SERVICES)
    port = int(compose["x-service-env"]["HTTP_PORT"])
    for name, job in jobs.items():
        (discovery,) = job["dns_sd_configs"]
        assert discovery == {"names": [name], "type": "A", "port": port}
        assert job.get("metrics_path", "/metrics") == "/metrics"


def test_grafana_provisions_the_datasource_the_dashboard_uses():
    datasources = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())
    (datasource,) = datasources["datasources"]
    assert datasource["url"] == "http://prometheus:9090"
    dashboard = json.loads(DASHBOARD.read_text())
    used = {target["datasource"]["uid"] for panel in dashboard["panels"] for target in panel.get("targets", [])}
    assert used == {datasource["uid"]}
    providers = yaml.safe_load((ROOT / "deploy/grafana/provisioning/dashboards/assistline.yml").read_text())
    assert providers["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


def test_the_dashboard_asks_only_for_series_the_services_expose():
    targets = [(panel.get("title", ""), t["expr"]) for panel in dashboard_panels() for t in panel.get("targets", [])]
    assert targets, "the dashboard has panels"
    families = exposed_families()
    exposed = {family + suffix for family, kind in families.items() for suffix in SERIES_OF_TYPE[kind]}
    asked: set[str] = set()
    for title, expr in targets:
        series = queried_series(expr)
        # Every query names at least one of our series (no query of some other exporter's).
        assert series, f"panel {title!r} queries no assistline series: {expr}"
        asked |= set(series)
    # By exact series: a counter is read as `_total`, a histogram through `_bucket`/`_sum`/`_count`.
    missing = asked - exposed
    assert not missing, f"the dashboard queries series nothing exposes (or of the wrong type): {sorted(missing)}"
    # The operators' figures are all on it.
    figures = {re.sub(r"_(bucket|count|sum|total)$", "", name) for name in asked}
    for figure in (
        "assistline_requests_waiting",
        "assistline_request_submit_to_offered_seconds",
        "assistline_request_submit_to_assigned_seconds",
        "assistline_request_accept_seconds",
        "assistline_offers_expired",
        "assistline_assignments_lapsed",
        "assistline_chats_active",
        "assistline_technicians_available",
        "assistline_dlq_messages",
        "assistline_outbox_backlog_documents",
        "assistline_websocket_connections",
    ):
        assert figure in figures, figure


def test_the_series_check_tells_a_wrong_type_from_a_right_one():
    """The check above can fail: a counter's bare name and a gauge read as a histogram are refused."""
    families = {"assistline_offers_expired": "counter", "assistline_chats_active": "gauge"}
    exposed = {family + suffix for family, kind in families.items() for suffix in SERIES_OF_TYPE[kind]}
    assert queried_series("sum(rate(assistline_offers_expired_total[5m]))") == ["assistline_offers_expired_total"]
    assert set(queried_series("max(assistline_chats_active_bucket) + assistline_offers_expired")) - exposed == {
        "assistline_chats_active_bucket",
        "assistline_offers_expired",
    }


def test_the_gateway_does_not_publish_metrics():
    template = (ROOT / "deploy/gateway/assistline.conf.template").read_text()
    block = re.search(r"location = /metrics \{(.*?)\}", template, re.S)
    assert block and "return 404" in block.group(1)
