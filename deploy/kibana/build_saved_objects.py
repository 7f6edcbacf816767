"""Builds deploy/kibana/defwatch.ndjson, the Kibana saved objects analysts import in one step
(``defwatch kibana import --url URL``). Edit here, then run ``python deploy/kibana/build_saved_objects.py``;
a test fails when the committed file is out of date.

Aggregation-based visualisations (not Lens) so every field reference is plain to check against the
index template; Kibana migrates them forward on import. Kibana cannot aggregate inside nested objects,
so the charts use the flat fields the indexer adds (``top_rank``, ``day``, ...).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("defwatch.ndjson")
DATA_VIEW = "defwatch-events-data-view"
INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"
SENIOR_KQL = ('status : "reported" and seniority >= 0.5 and confidence >= 0.3 and sector : '
              '("military" or "security" or "intelligence" or "government" or "diplomatic")')


def _search_source(query: str = "") -> dict[str, str]:
    return {"searchSourceJSON": json.dumps({"query": {"query": query, "language": "kuery"}, "filter": [],
                                            "indexRefName": INDEX_REF})}


def _ref() -> list[dict[str, str]]:
    return [{"name": INDEX_REF, "type": "index-pattern", "id": DATA_VIEW}]


def data_view() -> dict[str, Any]:
    return {"id": DATA_VIEW, "type": "index-pattern", "coreMigrationVersion": "8.8.0",
            "typeMigrationVersion": "7.11.0", "references": [],
            "attributes": {"title": "defwatch-events", "name": "defwatch events", "timeFieldName": "day",
                           "fields": "[]", "fieldFormatMap": json.dumps(
                               {"confidence": {"id": "percent"}, "seniority": {"id": "number",
                                                                               "params": {"pattern": "0.00"}}})}}


def saved_search(sid: str, title: str, query: str, columns: list[str]) -> dict[str, Any]:
    return {"id": sid, "type": "search", "coreMigrationVersion": "8.8.0", "typeMigrationVersion": "7.9.3",
            "references": _ref(),
            "attributes": {"title": title, "description": "", "columns": columns,
                           "sort": [["last_seen", "desc"]], "kibanaSavedObjectMeta": _search_source(query)}}


def _agg(aid: str, kind: str, schema: str, **params: Any) -> dict[str, Any]:
    return {"id": aid, "enabled": True, "type": kind, "schema": schema, "params": params}


def visualisation(vid: str, title: str, vis_type: str, aggs: list[dict[str, Any]],
                  params: dict[str, Any] | None = None) -> dict[str, Any]:
    state = {"title": title, "type": vis_type, "aggs": aggs, "params": {"type": vis_type, **(params or {})}}
    return {"id": vid, "type": "visualization", "coreMigrationVersion": "8.8.0", "typeMigrationVersion": "7.14.0",
            "references": _ref(),
            "attributes": {"title": title, "description": "", "version": 1, "uiStateJSON": "{}",
                           "visState": json.dumps(state), "kibanaSavedObjectMeta": _search_source()}}


def _chart_params(horizontal: bool = False) -> dict[str, Any]:
    return {"addTooltip": True, "addLegend": True, "legendPosition": "right", "times": [],
            "addTimeMarker": False, "categoryAxes": [{"id": "CategoryAxis-1", "type": "category",
                                                      "position": "left" if horizontal else "bottom",
                                                      "show": True, "labels": {"show": True}}],
            "valueAxes": [{"id": "ValueAxis-1", "name": "LeftAxis-1", "type": "value",
                           "position": "bottom" if horizontal else "left", "show": True,
                           "scale": {"type": "linear", "mode": "normal"}}],
            "seriesParams": [{"show": True, "type": "histogram", "mode": "stacked",
                              "data": {"label": "Events", "id": "1"}, "valueAxis": "ValueAxis-1"}]}


COUNT = _agg("1", "count", "metric", customLabel="Events")

VISUALISATIONS = [
    visualisation("defwatch-over-time-by-sector", "defwatch: defections over time by sector", "histogram", [
        COUNT,
        _agg("2", "date_histogram", "segment", field="day", interval="auto", min_doc_count=1,
             extended_bounds={}),
        _agg("3", "terms", "group", field="sector", size=8, order="desc", orderBy="1"),
    ], _chart_params()),
    visualisation("defwatch-by-top-rank", "defwatch: defections by top rank", "horizontal_bar", [
        COUNT,
        _agg("2", "terms", "segment", field="top_rank", size=20, order="desc", orderBy="1",
             otherBucket=True, missingBucket=False),
    ], _chart_params(horizontal=True)),
    visualisation("defwatch-origin-destination", "defwatch: origin and destination countries", "table", [
        COUNT,
        _agg("2", "terms", "bucket", field="from", size=25, order="desc", orderBy="1", missingBucket=True,
             missingBucketLabel="(unknown)", customLabel="from"),
        _agg("3", "terms", "bucket", field="to", size=10, order="desc", orderBy="1", missingBucket=True,
             missingBucketLabel="(unknown)", customLabel="to"),
    ], {"perPage": 20, "showPartialRows": False, "showMetricsAtAllLevels": False, "showTotal": True,
        "totalFunc": "sum"}),
    visualisation("defwatch-corroboration", "defwatch: corroboration (reporting articles per event)",
                  "histogram", [
                      COUNT,
                      _agg("2", "histogram", "segment", field="corroboration", interval=1, min_doc_count=False,
                           extended_bounds={"min": 1, "max": 10}),
                  ], _chart_params()),
    visualisation("defwatch-confidence", "defwatch: confidence of reported events", "histogram", [
        COUNT,
        _agg("2", "histogram", "segment", field="confidence", interval=0.1, min_doc_count=False,
             extended_bounds={"min": 0, "max": 1}),
        _agg("3", "terms", "group", field="status", size=3, order="desc", orderBy="1"),
    ], _chart_params()),
]

COLUMNS = ["top_rank", "defector_names", "count", "from", "to", "joined", "sector", "corroboration",
           "confidence", "outlets"]
SEARCHES = [
    saved_search("defwatch-latest-reported", "defwatch: latest reported defections", 'status : "reported"',
                 COLUMNS),
    saved_search("defwatch-senior-alerts", "defwatch: senior defections (alert rule)", SENIOR_KQL,
                 ["seniority", *COLUMNS]),
]


def dashboard(panels: list[dict[str, Any]]) -> dict[str, Any]:
    layout, refs = [], []
    spots = [(0, 0, 24, 15), (24, 0, 24, 15), (0, 15, 24, 15), (24, 15, 12, 15), (36, 15, 12, 15),
             (0, 30, 48, 15), (0, 45, 48, 15)]
    for i, (obj, (x, y, w, h)) in enumerate(zip(panels, spots, strict=True)):
        layout.append({"version": "8.8.0", "type": obj["type"], "panelIndex": str(i + 1),
                       "gridData": {"x": x, "y": y, "w": w, "h": h, "i": str(i + 1)},
                       "embeddableConfig": {}, "panelRefName": f"panel_{i}"})
        refs.append({"name": f"panel_{i}", "type": obj["type"], "id": obj["id"]})
    return {"id": "defwatch-dashboard", "type": "dashboard", "coreMigrationVersion": "8.8.0",
            "typeMigrationVersion": "7.14.0", "references": refs,
            "attributes": {"title": "defwatch: defections", "description": "Defections found in the news feeds.",
                           "version": 1, "timeRestore": True, "timeFrom": "now-90d", "timeTo": "now",
                           "refreshInterval": {"pause": False, "value": 60000},
                           "panelsJSON": json.dumps(layout),
                           "optionsJSON": json.dumps({"useMargins": True, "syncColors": False,
                                                      "hidePanelTitles": False}),
                           "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(
                               {"query": {"query": "", "language": "kuery"}, "filter": []})}}}


def objects() -> list[dict[str, Any]]:
    return [data_view(), *SEARCHES, *VISUALISATIONS, dashboard([*VISUALISATIONS, *SEARCHES])]


def render() -> str:
    return "".join(json.dumps(o, sort_keys=True) + "\n" for o in objects())


if __name__ == "__main__":
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {len(objects())} saved objects to {OUT}", file=sys.stderr)
