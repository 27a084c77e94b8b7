"""The Kubernetes manifests and the HA compose overlay, checked offline: no cluster, no Docker engine.

Every object is validated against the Kubernetes OpenAPI schemas shipped by `kubernetes-validate`
(strict: an unknown or misspelt field fails), KEDA's objects against a JSON Schema of the fields we
use, derived from KEDA's CRDs (keda.sh/v1alpha1). The structural tests pin what scaling out needs.
"""

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy/k8s"
HA_COMPOSE = ROOT / "deploy/compose/ha.yml"
MAIN_COMPOSE = ROOT / "docker-compose.yml"
NAMESPACE = "assistline"
SERVICES = ("portal-svc", "presence-svc", "dispatch-svc", "chat-svc", "webhook-svc")
DEPLOYMENTS = (*SERVICES, "gateway")
CPU_AUTOSCALED = ("portal-svc", "presence-svc", "chat-svc")
# The oldest Kubernetes the manifests promise to work on (preStop `sleep` is on by default since 1.30).
OLDEST_KUBERNETES = "1.30.0"
DEV_JWT_SECRET = "assistline-dev-secret-change-me-in-production"

Manifest = dict[str, Any]


def load(path: Path) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def manifest_files() -> list[Path]:
    return sorted(K8S.glob("*.yaml")) + sorted((K8S / "ha").glob("*.yaml"))


def all_objects() -> Iterator[tuple[Path, Manifest]]:
    for path in manifest_files():
        for doc in load(path):
            yield path, doc


def objects(kind: str, *, ha: bool = False) -> dict[str, Manifest]:
    """Objects of `kind` by name: the default manifests, or the optional ones of ha/."""
    return {
        doc["metadata"]["name"]: doc
        for path, doc in all_objects()
        if doc["kind"] == kind and (path.parent.name == "ha") == ha
    }


def is_keda(doc: Manifest) -> bool:
    return doc["apiVersion"].startswith("keda.sh/")


def subset(small: dict[str, str], big: dict[str, str]) -> bool:
    return all(big.get(key) == value for key, value in small.items())


def pod_spec(doc: Manifest) -> Manifest:
    return doc["spec"]["template"]["spec"]


# --- schemas --------------------------------------------------------------------------------

_secret_key_ref = {
    "type": "object",
    "required": ["parameter", "name", "key"],
    "additionalProperties": False,
    "properties": {name: {"type": "string", "minLength": 1} for name in ("parameter", "name", "key")},
}
_int32 = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
_object_meta = {
    "type": "object",
    "required": ["name", "namespace"],
    "properties": {"name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}},
}
_hpa_rules = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "stabilizationWindowSeconds": {"type": "integer", "minimum": 0, "maximum": 3600},
        "selectPolicy": {"enum": ["Max", "Min", "Disabled"]},
        "policies": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "value", "periodSeconds"],
                "additionalProperties": False,
                "properties": {
                    "type": {"enum": ["Pods", "Percent"]},
                    "value": {"type": "integer", "minimum": 1},
                    "periodSeconds": {"type": "integer", "minimum": 1, "maximum": 1800},
                },
            },
        },
    },
}

# The fields of keda.sh/v1alpha1 ScaledObject and TriggerAuthentication that these manifests use,
# after KEDA's CRDs (config/crd/bases/keda.sh_scaledobjects.yaml, keda.sh_triggerauthentications.yaml),
# closed (additionalProperties: false) so that a misspelt field fails here rather than being
# ignored by the cluster. The rabbitmq trigger's metadata keys follow KEDA's RabbitMQ scaler.
KEDA_SCHEMAS: dict[str, dict[str, Any]] = {
    "ScaledObject": {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": "keda.sh/v1alpha1"},
            "kind": {"const": "ScaledObject"},
            "metadata": _object_meta,
            "spec": {
                "type": "object",
                "required": ["scaleTargetRef", "triggers"],
                "additionalProperties": False,
                "properties": {
                    "scaleTargetRef": {
                        "type": "object",
                        "required": ["name"],
                        "additionalProperties": False,
                        "properties": {
                            "apiVersion": {"type": "string"},
                            "kind": {"type": "string"},
                            "name": {"type": "string"},
                            "envSourceContainerName": {"type": "string"},
                        },
                    },
                    "pollingInterval": _int32,
                    "cooldownPeriod": _int32,
                    "idleReplicaCount": _int32,
                    "minReplicaCount": _int32,
                    "maxReplicaCount": _int32,
                    "fallback": {
                        "type": "object",
                        "required": ["failureThreshold", "replicas"],
                        "additionalProperties": False,
                        "properties": {"failureThreshold": _int32, "replicas": _int32},
                    },
                    "advanced": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "restoreToOriginalReplicaCount": {"type": "boolean"},
                            "horizontalPodAutoscalerConfig": {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {
                                    "name": {"type": "string"},
                                    "behavior": {
                                        "type": "object",
                                        "additionalProperties": False,
                                        "properties": {"scaleUp": _hpa_rules, "scaleDown": _hpa_rules},
                                    },
                                },
                            },
                        },
                    },
                    "triggers": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["type", "metadata"],
                            "additionalProperties": False,
                            "properties": {
                                "type": {"type": "string"},
                                "name": {"type": "string"},
                                "metricType": {"enum": ["AverageValue", "Value", "Utilization"]},
                                "useCachedMetrics": {"type": "boolean"},
                                "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                                "authenticationRef": {
                                    "type": "object",
                                    "required": ["name"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "name": {"type": "string"},
                                        "kind": {"enum": ["TriggerAuthentication", "ClusterTriggerAuthentication"]},
                                    },
                                },
                            },
                            "if": {"properties": {"type": {"const": "rabbitmq"}}},
                            "then": {
                                "properties": {
                                    "metadata": {
                                        "required": ["queueName", "mode", "value"],
                                        "additionalProperties": False,
                                        "properties": {
                                            "protocol": {"enum": ["auto", "amqp", "http"]},
                                            "queueName": {"type": "string", "minLength": 1},
                                            "mode": {"enum": ["QueueLength", "MessageRate"]},
                                            "value": {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"},
                                            "activationValue": {"type": "string"},
                                            "vhostName": {"type": "string"},
                                            "hostFromEnv": {"type": "string"},
                                            "useRegex": {"enum": ["true", "false"]},
                                            "excludeUnacknowledged": {"enum": ["true", "false"]},
                                        },
                                    }
                                }
                            },
                        },
                    },
                },
            },
        },
    },
    "TriggerAuthentication": {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": "keda.sh/v1alpha1"},
            "kind": {"const": "TriggerAuthentication"},
            "metadata": _object_meta,
            "spec": {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "properties": {
                    "secretTargetRef": {"type": "array", "minItems": 1, "items": _secret_key_ref},
                    "env": {"type": "array"},
                    "podIdentity": {"type": "object"},
                },
            },
        },
    },
}


@pytest.fixture(scope="module")
def kubernetes_validate() -> Any:
    return pytest.importorskip(
        "kubernetes_validate",
        reason="kubernetes-validate (the Kubernetes JSON schemas) is not installed: "
        "add it to the root dev dependency group, or run with `uv run --with kubernetes-validate`",
    )


def validate_keda(doc: Manifest) -> None:
    jsonschema.Draft202012Validator(KEDA_SCHEMAS[doc["kind"]]).validate(doc)


@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: str(p.relative_to(K8S)))
def test_every_manifest_is_valid_for_the_oldest_and_newest_supported_kubernetes(path, kubernetes_validate):
    docs = load(path)
    assert docs
    for doc in docs:
        assert doc["kind"] == "Namespace" or doc["metadata"].get("namespace") == NAMESPACE, doc["metadata"]
        if is_keda(doc):  # CRDs: not in the Kubernetes schemas, checked below
            continue
        for version in (OLDEST_KUBERNETES, kubernetes_validate.latest_version()):
            kubernetes_validate.validate(doc, version, strict=True)


def test_keda_objects_are_valid_for_keda_v1alpha1():
    keda = [doc for _, doc in all_objects() if is_keda(doc)]
    assert {doc["kind"] for doc in keda} == {"ScaledObject", "TriggerAuthentication"}
    for doc in keda:
        validate_keda(doc)


def test_the_kubernetes_validator_rejects_a_misspelt_field(kubernetes_validate):
    broken = yaml.safe_load(yaml.safe_dump(objects("Deployment")["portal-svc"]))
    container = pod_spec(broken)["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, OLDEST_KUBERNETES, strict=True)


def test_the_keda_schema_rejects_a_misspelt_trigger_field():
    scaled = yaml.safe_load(yaml.safe_dump(objects("ScaledObject")["dispatch-svc"]))
    scaled["spec"]["triggers"][0]["metadata"]["queue"] = scaled["spec"]["triggers"][0]["metadata"].pop("queueName")
    with pytest.raises(jsonschema.ValidationError):
        validate_keda(scaled)


def test_every_deployment_runs_two_ready_probed_bounded_replicas():
    deployments = objects("Deployment")
    assert set(deployments) == set(DEPLOYMENTS)
    for name, deployment in deployments.items():
        assert deployment["spec"]["replicas"] >= 2, name
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0, name
        (container,) = pod_spec(deployment)["containers"]
        assert container["readinessProbe"] and container["livenessProbe"], name
        resources = container["resources"]
        assert resources["requests"]["cpu"] and resources["requests"]["memory"], name
        assert resources["limits"]["memory"], name
        if name in SERVICES:
            short = name.removesuffix("-svc")
            assert container["readinessProbe"]["httpGet"]["path"] == f"/api/{short}/ready"
            assert container["livenessProbe"]["httpGet"]["path"] == f"/api/{short}/health"
            # Services stay under 150 MB RSS: request 128Mi, room up to 256Mi.
            assert resources["requests"]["memory"] == "128Mi", name
            assert resources["limits"]["memory"] == "256Mi", name
            assert container["image"].startswith(f"assistline/{name}:")
            ports = {port["name"] for port in container["ports"]}
            assert container["readinessProbe"]["httpGet"]["port"] in ports


def test_a_disruption_budget_keeps_one_replica_of_every_deployment():
    budgets = objects("PodDisruptionBudget").values()
    for name, deployment in objects("Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        selecting = [pdb for pdb in budgets if subset(pdb["spec"]["selector"]["matchLabels"], labels)]
        assert len(selecting) == 1, name
        assert selecting[0]["spec"]["minAvailable"] == 1, name


def test_every_service_is_reachable_by_its_service_name():
    services = objects("Service")
    for name, deployment in objects("Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert subset(services[name]["spec"]["selector"], labels), name


def test_cpu_autoscalers_for_portal_presence_and_chat_and_none_for_dispatch():
    autoscalers = objects("HorizontalPodAutoscaler")
    deployments = objects("Deployment")
    targets = {hpa["spec"]["scaleTargetRef"]["name"]: hpa for hpa in autoscalers.values()}
    # dispatch-svc is KEDA's: a second HPA on the same Deployment would fight it.
    assert set(targets) == set(CPU_AUTOSCALED)
    for name, hpa in targets.items():
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment" and name in deployments
        assert hpa["spec"]["minReplicas"] >= 2
        assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
        (metric,) = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu"
        assert metric["resource"]["target"]["type"] == "Utilization"


def test_keda_scales_dispatch_on_the_depth_of_its_submissions_queue():
    from contracts.events import RequestSubmitted
    from servicekit.broker import queue_name

    (scaled,) = objects("ScaledObject").values()
    spec = scaled["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "dispatch-svc"}
    assert spec["minReplicaCount"] >= 2
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "rabbitmq"
    assert trigger["metadata"]["queueName"] == queue_name("dispatch-svc", RequestSubmitted)
    assert trigger["metadata"]["mode"] == "QueueLength"

    authentication = objects("TriggerAuthentication")[trigger["authenticationRef"]["name"]]
    (ref,) = authentication["spec"]["secretTargetRef"]
    # The AMQP URL comes from the Secret the services read theirs from.
    dispatch = pod_spec(objects("Deployment")["dispatch-svc"])["containers"][0]
    assert {"secretRef": {"name": ref["name"]}} in dispatch["envFrom"]
    assert (ref["parameter"], ref["key"]) == ("host", "RABBITMQ_URL")


def test_secrets_come_from_the_secret_and_dev_mode_is_never_set():
    for path in manifest_files():
        text = path.read_text()
        assert DEV_JWT_SECRET not in text, path
        assert "ASSISTLINE_DEV_MODE:" not in text and "name: ASSISTLINE_DEV_MODE" not in text, path
    config = objects("ConfigMap")["assistline"]["data"]
    assert not {"JWT_SECRET", "RABBITMQ_URL", "MONGODB_URL", "ASSISTLINE_DEV_MODE"} & set(config)
    for name in SERVICES:
        (container,) = pod_spec(objects("Deployment")[name])["containers"]
        assert container["envFrom"] == [{"configMapRef": {"name": "assistline"}}, {"secretRef": {"name": "assistline"}}]
        assert "env" not in container, "every setting through the ConfigMap or the Secret"


def test_the_gateway_reaches_every_service_through_its_service_name():
    (gateway,) = pod_spec(objects("Deployment")["gateway"])["containers"]
    env = {item["name"]: item["value"] for item in gateway["env"]}
    services = objects("Service")
    for name in SERVICES:
        variable = name.replace("-", "_").upper() + "_SERVERS"
        # One server, the Service's ClusterIP: kube-proxy balances over the ready replicas.
        assert env[variable] == f"server {name}:8000;"
        assert {"port": 8000, "targetPort": "http", "name": "http"} in services[name]["spec"]["ports"]


# --- optional HA backends (deploy/k8s/ha) ------------------------------------------------------


def test_ha_rabbitmq_is_a_three_node_cluster_found_through_kubernetes():
    statefulset = objects("StatefulSet", ha=True)["rabbitmq"]
    assert statefulset["spec"]["replicas"] == 3
    headless = objects("Service", ha=True)[statefulset["spec"]["serviceName"]]
    assert headless["spec"]["clusterIP"] == "None" and headless["spec"]["publishNotReadyAddresses"] is True

    config = objects("ConfigMap", ha=True)["rabbitmq-config"]["data"]
    assert "rabbitmq_peer_discovery_k8s" in config["enabled_plugins"]
    conf = dict(
        line.split(" = ", 1) for line in config["rabbitmq.conf"].splitlines() if line and not line.startswith("#")
    )
    assert conf["cluster_formation.peer_discovery_backend"] == "k8s"
    assert conf["cluster_formation.k8s.service_name"] == headless["metadata"]["name"]
    assert (
        conf["cluster_formation.k8s.hostname_suffix"]
        == f".{headless['metadata']['name']}.{NAMESPACE}.svc.cluster.local"
    )
    assert conf["quorum_queue.continuous_membership_reconciliation.target_group_size"] == "3"

    spec = pod_spec(statefulset)
    env = {item["name"]: item for item in spec["containers"][0]["env"]}
    assert env["RABBITMQ_NODENAME"]["value"].endswith(conf["cluster_formation.k8s.hostname_suffix"])
    # The shared Erlang cookie comes from a Secret, never from the image.
    cookie = next(volume for volume in spec["volumes"] if volume["name"] == "cookie")
    assert cookie["secret"]["secretName"] == "rabbitmq"
    role = objects("Role", ha=True)["rabbitmq-peer-discovery"]
    assert {"apiGroups": [""], "resources": ["endpoints"], "verbs": ["get"]} in role["rules"]
    assert objects("PodDisruptionBudget", ha=True)["rabbitmq"]["spec"]["maxUnavailable"] == 1


def test_ha_mongodb_is_a_three_member_replica_set_initiated_once():
    statefulset = objects("StatefulSet", ha=True)["mongodb"]
    assert statefulset["spec"]["replicas"] == 3
    assert pod_spec(statefulset)["containers"][0]["args"][:2] == ["--replSet", "rs0"]
    job = objects("Job", ha=True)["mongodb-rs-initiate"]
    script = pod_spec(job)["containers"][0]["command"][-1]
    assert "rs.initiate" in script and "NotYetInitialized" in script
    assert "[0, 1, 2].map" in script and f"mongodb-headless.{NAMESPACE}.svc:27017" in script
    assert objects("PodDisruptionBudget", ha=True)["mongodb"]["spec"]["maxUnavailable"] == 1


# --- HA compose overlay ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ha_compose() -> Manifest:
    return yaml.safe_load(HA_COMPOSE.read_text())


def test_ha_compose_overlay_is_valid():
    # The official compose-spec JSON Schema, shipped inside check-jsonschema (as for docker-compose.yml).
    subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(HA_COMPOSE)],
        check=True,
    )


def test_ha_compose_overlays_services_the_main_file_defines(ha_compose):
    main = yaml.safe_load(MAIN_COMPOSE.read_text())["services"]
    for name in ("rabbitmq", "mongodb", *SERVICES):
        assert name in main and name in ha_compose["services"], name


def test_ha_compose_runs_three_clustered_rabbitmq_nodes(ha_compose):
    services = ha_compose["services"]
    nodes = {name: services[name] for name in ("rabbitmq", "rabbitmq-2", "rabbitmq-3")}
    conf = (ROOT / "deploy/compose/rabbitmq-cluster.conf").read_text()
    assert "cluster_formation.peer_discovery_backend = classic_config" in conf
    listed = set(re.findall(r"^cluster_formation\.classic_config\.nodes\.\d+ = rabbit@(\S+)$", conf, re.M))
    assert listed == {node["hostname"] for node in nodes.values()} == {"rabbitmq-1", "rabbitmq-2", "rabbitmq-3"}
    for name, node in nodes.items():
        # Each node's name resolves for the others, and the services reach any node by one alias.
        aliases = node["networks"]["default"]["aliases"]
        assert "rabbitmq-cluster" in aliases
        assert node["hostname"] == name or node["hostname"] in aliases
        assert "./deploy/compose/rabbitmq-cluster.conf:/etc/rabbitmq/conf.d/20-cluster.conf:ro" in node["volumes"]
    cookies = {node["environment"]["RABBITMQ_COOKIE"] for node in nodes.values()}
    entrypoints = {"\n".join(node["entrypoint"]) for node in nodes.values()}
    assert len(cookies) == 1 and len(entrypoints) == 1, "one shared Erlang cookie"
    assert ".erlang.cookie" in entrypoints.pop()


def test_ha_compose_runs_a_three_member_mongodb_replica_set(ha_compose):
    services = ha_compose["services"]
    members = ("mongodb", "mongodb-2", "mongodb-3")
    for name in members:
        assert services[name]["command"][:2] == ["--replSet", "rs0"]
    init = services["mongodb-init"]
    assert set(init["depends_on"]) == set(members)
    script = init["command"][-1]
    for name in members:
        assert f'host: "{name}:27017"' in script
    assert "NotYetInitialized" in script


def test_ha_compose_points_every_service_at_the_clusters(ha_compose):
    services = ha_compose["services"]
    for name in SERVICES:
        env = services[name]["environment"]
        assert env["RABBITMQ_URL"] == "amqp://guest:guest@rabbitmq-cluster:5672/"
        assert env["MONGODB_URL"] == "mongodb://mongodb:27017,mongodb-2:27017,mongodb-3:27017/?replicaSet=rs0"
        depends = services[name]["depends_on"]
        assert depends["mongodb-init"] == {"condition": "service_completed_successfully"}
        assert depends["rabbitmq-2"] == depends["rabbitmq-3"] == {"condition": "service_healthy"}
