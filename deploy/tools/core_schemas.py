"""Standalone JSON schemas of core Kubernetes kinds for kubeconform, from the schemas the
kubernetes-validate package (PyPI) carries offline. Its schemas point into one shared definitions file
(``/api/_definitions.json#/$defs/...``), which kubeconform cannot follow; this writes each wanted kind
with those definitions embedded, under kubeconform's default file name (``deployment-apps-v1.json``).

    python deploy/tools/core_schemas.py OUT K8S_VERSION FILE_NAME [FILE_NAME ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import kubernetes_validate

SCHEMAS = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"


def standalone(version: str, names: list[str], out: Path, strict: bool = True) -> list[Path]:
    src = SCHEMAS / f"v{version}-local{'-strict' if strict else ''}"
    if not src.is_dir():
        have = sorted(p.name for p in SCHEMAS.iterdir())
        raise FileNotFoundError(f"no schemas for Kubernetes {version} in kubernetes-validate (has {have[-4:]})")
    defs = json.loads((src / "_definitions.json").read_text())
    definitions = json.dumps(defs.get("$defs", defs.get("definitions", {})))
    definitions = definitions.replace("/api/_definitions.json#/$defs/", "#/definitions/").replace(
        '"#/$defs/', '"#/definitions/')
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        path = src / name
        if not path.exists():
            continue  # kubeconform will report the kind as having no schema
        text = path.read_text().replace("/api/_definitions.json#/$defs/", "#/definitions/")
        schema = json.loads(text)
        schema.pop("$id", None)  # refs resolve within this file
        schema["definitions"] = json.loads(definitions)
        (out / name).write_text(json.dumps(schema))
        written.append(out / name)
    return written


if __name__ == "__main__":
    done = standalone(sys.argv[2], sys.argv[3:], Path(sys.argv[1]))
    print(f"core schemas: {len(done)} written to {sys.argv[1]}", file=sys.stderr)
