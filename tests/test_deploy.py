"""The deployment files: the Dockerfile (hadolint), the compose stack (parsed and checked), and the
Kubernetes overlays (kustomize build, then kubeconform against Kubernetes' schemas for the core kinds and
the operators' CRD schemas for Strimzi, ECK, KEDA and the Prometheus operator). The tools come from
`make tools` (Go module proxy, Maven Central) and `make install` (PyPI); a kind without a schema is
named in a warning, never passed over in silence."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / ".tools"
K8S_VERSION = "1.30.0"
CRDS = TOOLS / "schemas" / "crds"
OVERLAYS = ["dev", "prod"]


def tool(name: str) -> str:
    for candidate in (TOOLS / "bin" / name, Path(sys.executable).parent / name):
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} not found: `make tools` builds it into .tools/bin (needs Go and the Go module proxy)")
    return found


def build(overlay: str) -> str:
    res = subprocess.run([tool("kustomize"), "build", str(ROOT / "k8s" / "overlays" / overlay)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout


def docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def kubeconform(manifests: str, tmp: Path) -> list[dict[str, Any]]:
    sys.path.insert(0, str(ROOT / "deploy" / "tools"))
    try:
        from core_schemas import standalone  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    if not (CRDS / ".done").exists():
        pytest.fail("operator CRD schemas missing: `make tools` makes them (Maven Central, Go module proxy)")
    names = set()
    for d in docs(manifests):
        group, _, version = d["apiVersion"].rpartition("/")
        suffix = f"-{group.split('.')[0]}-{version}" if group else f"-{version}"
        names.add(f"{d['kind'].lower()}{suffix}.json")
    standalone(K8S_VERSION, sorted(names), tmp / "core")
    res = subprocess.run(
        [tool("kubeconform"), "-strict", "-output", "json", "-verbose",
         "-schema-location", str(tmp / "core") + "/{{ .ResourceKind }}{{ .KindSuffix }}.json",
         "-schema-location", str(CRDS) + "/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json", "-"],
        input=manifests, capture_output=True, text=True, timeout=300)
    return list(json.loads(res.stdout)["resources"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_builds_and_every_resource_validates(overlay: str, tmp_path: Path) -> None:
    manifests = build(overlay)
    results = kubeconform(manifests, tmp_path)
    unchecked = sorted({r["kind"] for r in results if "could not find schema" in (r.get("msg") or "")})
    if unchecked:
        warnings.warn(f"{overlay}: no schema to check {', '.join(unchecked)} against", stacklevel=1)
    bad = [f"{r['kind']}/{r['name']}: {r['msg']}" for r in results
           if r["status"] not in ("statusValid",) and r["kind"] not in unchecked]
    assert not bad, "\n".join(bad)
    assert len(results) == len(docs(manifests)) and not unchecked
    kinds = {d["kind"] for d in docs(manifests)}
    assert {"Deployment", "Service", "ConfigMap", "PodDisruptionBudget", "NetworkPolicy", "ServiceMonitor",
            "ScaledObject"} <= kinds
    if overlay == "prod":
        assert {"Kafka", "KafkaNodePool", "KafkaTopic", "Elasticsearch", "Kibana"} <= kinds


def test_kubeconform_catches_a_misspelt_field(tmp_path: Path) -> None:
    manifests = build("prod").replace("  replicas: 3\n  selector:", "  replica: 3\n  selector:", 1)
    manifests = manifests.replace("partitions: 8", "partition: 8", 1)
    bad = {r["kind"] for r in kubeconform(manifests, tmp_path) if r["status"] == "statusInvalid"}
    assert bad == {"Deployment", "KafkaTopic"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_are_non_root_with_probes_and_limits_and_no_secret_is_committed(overlay: str) -> None:
    all_docs = docs(build(overlay))
    assert not [d for d in all_docs if d["kind"] == "Secret"]  # referenced, never committed
    for d in (d for d in all_docs if d["kind"] == "Deployment"):
        pod = d["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, d["metadata"]["name"]
        for c in pod["containers"]:
            assert c["readinessProbe"] and c["livenessProbe"], c["name"]
            assert c["resources"]["requests"] and c["resources"]["limits"], c["name"]
            assert c["securityContext"]["allowPrivilegeEscalation"] is False
    topics = {d["metadata"]["name"]: d["spec"] for d in all_docs if d["kind"] == "KafkaTopic"}
    if overlay == "prod":
        assert topics["defwatch-events"]["config"]["cleanup.policy"] == "compact"
        assert topics["defwatch-dedup-changelog"]["config"]["cleanup.policy"] == "compact"
        assert all(t["partitions"] >= 1 and t["replicas"] == 3 for t in topics.values())


def test_dockerfile_passes_hadolint() -> None:
    res = subprocess.run([tool("hadolint"), str(ROOT / "deploy" / "Dockerfile")], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "USER 10001" in text and "HEALTHCHECK" in text and "load_pipeline" in text


def test_compose_runs_the_whole_stack() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"kafka", "elasticsearch", "kibana", "kibana-setup", "prometheus", "grafana", "ingester", "worker",
            "alerter"} <= set(services)
    for name in ("ingester", "worker", "alerter", "kibana-setup"):
        env = services[name]["environment"]
        assert env["DEFWATCH_KAFKA"] == "kafka:9092" and env["DEFWATCH_ELASTICSEARCH"].startswith("http://")
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert services["alerter"]["environment"]["DEFWATCH_AGENTS"] == "alert"
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft
    for name in ("prometheus", "grafana"):
        for volume in services[name]["volumes"]:
            assert (ROOT / "deploy" / volume.split(":")[0]).exists(), volume
    assert "kibana" in services["kibana-setup"]["command"]
