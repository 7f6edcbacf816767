"""``defwatch kibana import``: posts deploy/kibana/defwatch.ndjson to Kibana's saved-objects import API
(overwriting earlier versions of the same objects) and reports what Kibana imported."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SAVED_OBJECTS = Path(__file__).resolve().parent.parent / "deploy" / "kibana" / "defwatch.ndjson"
"""In a source checkout; an installed package (the container image) finds ``deploy/kibana`` under the
working directory instead (``default_objects``)."""


def default_objects() -> Path:
    local = Path.cwd() / "deploy" / "kibana" / "defwatch.ndjson"
    return SAVED_OBJECTS if SAVED_OBJECTS.exists() or not local.exists() else local


class KibanaError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Imported:
    type: str
    id: str
    title: str


def load(path: Path | None = None, events_alias: str = "defwatch-events") -> list[dict[str, Any]]:
    """The saved objects, with the data view pointed at ``events_alias`` (``DEFWATCH_ES_PREFIX``)."""
    path = path or default_objects()
    objs = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise KibanaError(f"{path}:{n}: not JSON: {exc}") from exc
        if obj.get("type") == "index-pattern":
            obj["attributes"]["title"] = events_alias
        objs.append(obj)
    return objs


def _multipart(name: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = "defwatch-" + uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: application/ndjson\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def import_objects(url: str, objects: list[dict[str, Any]], space: str | None = None,
                   api_key: str | None = None, timeout: float = 30.0) -> list[Imported]:
    """POST the objects to ``<url>[/s/<space>]/api/saved_objects/_import?overwrite=true``."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise KibanaError(f"not a Kibana URL: {url!r} (expected http(s)://host:port)")
    base = url.rstrip("/") + (f"/s/{urllib.parse.quote(space, safe='')}" if space else "")
    ndjson = "".join(json.dumps(o) + "\n" for o in objects).encode()
    body, ctype = _multipart("file", "defwatch.ndjson", ndjson)
    headers = {"Content-Type": ctype, "kbn-xsrf": "defwatch"}
    if api_key:
        headers["Authorization"] = f"ApiKey {api_key}"
    req = urllib.request.Request(f"{base}/api/saved_objects/_import?overwrite=true", data=body,
                                 headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # scheme checked above
            answer = json.loads(resp.read(10_000_000) or b"{}")
    except urllib.error.HTTPError as exc:
        detail = exc.read(2000).decode("utf-8", "replace")
        raise KibanaError(f"Kibana refused the import: HTTP {exc.code}: {detail}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise KibanaError(f"cannot reach Kibana at {url}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise KibanaError(f"Kibana answered with something that is not JSON: {exc}") from exc
    errors = answer.get("errors") or []
    if errors or not answer.get("success", False):
        listed = "; ".join(f"{e.get('type')}/{e.get('id')}: {e.get('error', {}).get('type', e.get('error'))}"
                           for e in errors[:10])
        raise KibanaError(f"Kibana imported {answer.get('successCount', 0)} of {len(objects)} objects; "
                          f"errors: {listed or answer}")
    titles = {(o["type"], o["id"]): o.get("attributes", {}).get("title", "") for o in objects}
    return [Imported(r["type"], r["id"], (r.get("meta") or {}).get("title") or titles.get((r["type"], r["id"]), ""))
            for r in answer.get("successResults", [])]
