"""The saved objects analysts import, and the import command. (Kibana is a Node.js application that
neither PyPI nor Maven Central carries, so the import is tested against a local HTTP server that
answers like Kibana's saved-objects import API; the NDJSON itself is checked against the index
template here.)"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from streams.kibana import SAVED_OBJECTS, KibanaError, import_objects, load
from streams.templates import EVENT_PROPERTIES

ROOT = Path(__file__).resolve().parents[1]


def mapped_fields(props: dict[str, Any], prefix: str = "") -> set[str]:
    out = set()
    for name, spec in props.items():
        out.add(prefix + name)
        out |= {f"{prefix}{name}.{sub}" for sub in spec.get("fields", {})}
        out |= mapped_fields(spec.get("properties", {}), f"{prefix}{name}.")
    return out


FIELDS = mapped_fields(EVENT_PROPERTIES)
OBJECTS = load()
BY_ID = {(o["type"], o["id"]): o for o in OBJECTS}


def kql_fields(query: str) -> set[str]:
    return set(re.findall(r"([A-Za-z_][\w.]*)\s*(?::|>=|<=|>|<)", query))


def used_fields(obj: dict[str, Any]) -> set[str]:
    a = obj["attributes"]
    used: set[str] = set()
    if obj["type"] == "index-pattern":
        used.add(a["timeFieldName"])
        used |= set(json.loads(a.get("fieldFormatMap", "{}")))
    if obj["type"] == "search":
        used |= set(a["columns"]) | {s[0] for s in a["sort"]}
    if obj["type"] == "visualization":
        for agg in json.loads(a["visState"])["aggs"]:
            if "field" in agg["params"]:
                used.add(agg["params"]["field"])
    meta = a.get("kibanaSavedObjectMeta", {}).get("searchSourceJSON")
    if meta:
        used |= kql_fields(json.loads(meta)["query"]["query"])
    return used


def test_every_object_parses_and_has_an_id_type_and_title() -> None:
    assert len(OBJECTS) == len(BY_ID) >= 9
    kinds = [o["type"] for o in OBJECTS]
    assert kinds.count("visualization") >= 5 and kinds.count("search") >= 2
    assert kinds.count("dashboard") == 1 and kinds.count("index-pattern") == 1
    for o in OBJECTS:
        assert o["attributes"]["title"], o["id"]
        for key in ("visState", "panelsJSON", "optionsJSON", "uiStateJSON"):
            if key in o["attributes"]:
                json.loads(o["attributes"][key])


def test_every_reference_points_at_an_object_in_the_file() -> None:
    for o in OBJECTS:
        names = {r["name"] for r in o["references"]}
        for ref in o["references"]:
            assert (ref["type"], ref["id"]) in BY_ID, (o["id"], ref)
        meta = o["attributes"].get("kibanaSavedObjectMeta", {}).get("searchSourceJSON")
        if meta and "indexRefName" in json.loads(meta):
            assert json.loads(meta)["indexRefName"] in names, o["id"]
        if o["type"] == "dashboard":
            panels = json.loads(o["attributes"]["panelsJSON"])
            assert {p["panelRefName"] for p in panels} <= names
            assert len(panels) == len(OBJECTS) - 2  # every search and visualisation is on the dashboard


@pytest.mark.parametrize("obj", OBJECTS, ids=lambda o: o["id"])
def test_every_field_used_exists_in_the_index_mapping(obj: dict[str, Any]) -> None:
    assert used_fields(obj) <= FIELDS, used_fields(obj) - FIELDS


def test_visualisations_do_not_aggregate_inside_nested_objects() -> None:
    nested = {n for n, spec in EVENT_PROPERTIES.items() if spec.get("type") == "nested"}
    for o in OBJECTS:
        for f in used_fields(o):
            assert f.split(".")[0] not in nested, (o["id"], f)


def test_committed_ndjson_is_what_the_builder_writes() -> None:
    sys.path.insert(0, str(ROOT / "deploy" / "kibana"))
    try:
        import build_saved_objects  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    assert SAVED_OBJECTS.read_text(encoding="utf-8") == build_saved_objects.render(), \
        "run python deploy/kibana/build_saved_objects.py"


def test_data_view_follows_the_es_prefix() -> None:
    dv = next(o for o in load(events_alias="news-events") if o["type"] == "index-pattern")
    assert dv["attributes"]["title"] == "news-events"


class FakeKibana(BaseHTTPRequestHandler):
    """Answers POST /api/saved_objects/_import like Kibana 8 does."""

    received: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        if self.headers.get("kbn-xsrf") is None:
            return self._answer(400, {"statusCode": 400, "message": "Request must contain a kbn-xsrf header."})
        if not self.path.endswith("/api/saved_objects/_import?overwrite=true"):
            return self._answer(404, {"statusCode": 404, "message": "Not Found"})
        body = self.rfile.read(int(self.headers["Content-Length"]))
        msg = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body)
        part = next(msg.iter_parts())
        assert part.get_param("name", header="content-disposition") == "file"
        objs = [json.loads(line) for line in part.get_payload(decode=True).decode().splitlines() if line]
        FakeKibana.received.append({"path": self.path, "auth": self.headers.get("Authorization"), "objs": objs})
        bad = [o for o in objs if o["type"] not in ("index-pattern", "search", "visualization", "dashboard")]
        self._answer(200, {
            "success": not bad, "successCount": len(objs) - len(bad),
            "successResults": [{"type": o["type"], "id": o["id"], "meta": {"title": o["attributes"]["title"]}}
                               for o in objs if o not in bad],
            "errors": [{"type": o["type"], "id": o["id"], "error": {"type": "unsupported_type"}} for o in bad]})

    def _answer(self, code: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture()
def kibana() -> Iterator[str]:
    FakeKibana.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeKibana)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_cli_imports_every_object_and_lists_them(kibana: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "DEFWATCH_ES_PREFIX": "news", "DEFWATCH_KIBANA_API_KEY": "k3y"}
    res = subprocess.run([sys.executable, "-m", "streams.cli", "kibana", "import", "--url", kibana, "--space",
                          "ops"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("imported ") == len(OBJECTS) and "defwatch: defections" in res.stdout
    got = FakeKibana.received[0]
    assert got["path"].startswith("/s/ops/") and got["auth"] == "ApiKey k3y"
    assert next(o for o in got["objs"] if o["type"] == "index-pattern")["attributes"]["title"] == "news-events"
    assert "k3y" not in res.stdout + res.stderr


def test_import_errors_are_reported(kibana: str) -> None:
    with pytest.raises(KibanaError, match=r"1 of 2 objects.*unsupported_type"):
        import_objects(kibana, [OBJECTS[0], {"type": "canvas", "id": "x", "attributes": {"title": "x"}}])
    with pytest.raises(KibanaError, match="not a Kibana URL"):
        import_objects("file:///etc/passwd", OBJECTS)
    with pytest.raises(KibanaError, match="cannot reach Kibana"):
        import_objects("http://127.0.0.1:9", OBJECTS, timeout=2)
