"""CustomResourceDefinition YAML files -> JSON schemas kubeconform reads, one per kind and version:
``OUT/<group>/<kind>_<version>.json``. Objects that list their properties and neither allow extra ones
nor preserve unknown fields get ``additionalProperties: false``, so a misspelt field fails the check
(kubeconform's -strict does this for the core kinds).

    python deploy/tools/crd_schemas.py OUT CRD.yaml [CRD.yaml ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml


def strict(schema: Any) -> Any:
    if isinstance(schema, dict):
        out = {k: strict(v) for k, v in schema.items()}
        if ("properties" in out and "additionalProperties" not in out
                and not out.get("x-kubernetes-preserve-unknown-fields")):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


def convert(crd: dict[str, Any], out: Path) -> list[Path]:
    spec = crd["spec"]
    group, kind = spec["group"], spec["names"]["kind"].lower()
    written = []
    for version in spec.get("versions", []):
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        if not schema:
            continue
        schema = strict(schema)
        props = schema.setdefault("properties", {})
        props.setdefault("apiVersion", {"type": "string"})
        props.setdefault("kind", {"type": "string"})
        props.setdefault("metadata", {"type": "object"})
        path = out / group / f"{kind}_{version['name']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(schema))
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    n = 0
    for name in argv[1:]:
        for doc in yaml.safe_load_all(Path(name).read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                n += len(convert(doc, out))
    print(f"crd schemas: {n} kind/version schema(s) in {out}", file=sys.stderr)
    return 0 if n else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
