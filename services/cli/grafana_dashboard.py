"""deploy/grafana/interpol-mesh.json: the on-call dashboard, what to look at first, top to bottom.

Generated so that every query can be checked against the metric catalogue (metric_names.py): a
panel naming a metric the offices do not export fails `make gen` instead of staying empty.
Order: is anything down, is anything piling up, is anything refused, how fast, the CCC, NATS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from interpol_offices.cli.prometheus_config import INFO_JOIN

GRAFANA = "deploy/grafana"
DASHBOARD = f"{GRAFANA}/interpol-mesh.json"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"

Json = dict[str, Any]


@dataclass(frozen=True)
class Panel:
    title: str
    queries: list[tuple[str, str]]  # (PromQL, legend)
    unit: str = "short"
    kind: str = "timeseries"
    description: str = ""
    width: int = 12


@dataclass(frozen=True)
class Row:
    title: str
    panels: list[Panel] = field(default_factory=list)


def _q(quantile: float, metric: str, by: str = "") -> str:
    return f"histogram_quantile({quantile}, sum by (le{', ' + by if by else ''}) (rate({metric}_bucket[{RATE}])))"


ROWS = [
    Row("Offices", [
        Panel("Offices not ready", [
            ('count(interpol_mesh_office_ready < 1) or vector(0)', "degraded or unavailable"),
            ('count(up{job=~"office/.+"} == 0) or vector(0)', "not answering its scrape"),
        ], kind="stat", width=8, description="From /readyz (1 ready, 0.5 degraded, 0 unavailable) and the scrape itself."),
        Panel("Readiness by office", [(f"(interpol_mesh_office_ready < 1) * {INFO_JOIN}", "{{office}} ({{bus_region}})"),
                                      ('up{job=~"office/.+"} == 0', "{{office}} (no scrape)")],
              kind="table", width=8, description="Only the offices that are not ready, with their bus region (many in one region: "
                                                 "that region's bus): look at their /readyz reasons."),
        Panel("Messages sent and received per second", [
            ("sum(rate(interpol_mesh_messages_sent_total[$__rate_interval]))", "sent"),
            ("sum(rate(interpol_mesh_messages_received_total[$__rate_interval]))", "received"),
            ("sum(rate(interpol_mesh_deliveries_published_total[$__rate_interval]))", "published (per recipient)"),
        ], unit="ops", width=8),
    ]),
    Row("Backlogs", [
        Panel("Outbox pending rows", [("topk(10, interpol_mesh_outbox_pending_rows)", "{{office}}")],
              description="Committed sends JetStream has not acknowledged yet."),
        Panel("Outbox oldest row age", [("topk(10, interpol_mesh_outbox_oldest_age_seconds)", "{{office}}")], unit="s"),
        Panel("Consumer pending and redelivered", [
            ("topk(10, interpol_mesh_consumer_pending_messages)", "{{office}} pending"),
            ("topk(10, interpol_mesh_consumer_ack_pending_messages)", "{{office}} ack pending"),
            ("topk(10, interpol_mesh_consumer_redelivered_messages)", "{{office}} redelivered"),
        ], description="The inbox stream's backlog per office (JetStream num_pending, num_ack_pending, num_redelivered)."),
        Panel("Publish failures by reason", [("sum by (reason) (rate(interpol_mesh_publish_failures_total[$__rate_interval]))", "{{reason}}")], unit="ops"),
    ]),
    Row("Refused", [
        Panel("Quarantine rate by reason", [("sum by (reason) (rate(interpol_mesh_messages_quarantined_total[$__rate_interval]))", "{{reason}}")], unit="ops", width=8),
        Panel("Signature failures by reason", [("sum by (reason) (rate(interpol_mesh_signature_failures_total[$__rate_interval]))", "{{reason}}")], unit="ops", width=8),
        Panel("Token refusals by reason", [("sum by (reason) (rate(interpol_mesh_token_refusals_total[$__rate_interval]))", "{{reason}}")], unit="ops", width=8),
    ]),
    Row("Latency", [
        Panel("Send to commit", [
            (_q(0.5, "interpol_mesh_send_to_commit_seconds"), "p50"),
            (_q(0.99, "interpol_mesh_send_to_commit_seconds"), "p99"),
        ], unit="s", description="From the envelope's created_at (sender's clock) to its commit at the recipient."),
        Panel("Stage p99 by stage", [(_q(0.99, "interpol_mesh_stage_seconds", "stage"), "{{stage}}")], unit="s"),
    ]),
    Row("CCC", [
        Panel("Open cases by priority", [("sum by (priority) (interpol_mesh_ccc_open_cases)", "{{priority}}")], width=8),
        Panel("Open cases by desk", [("sum by (desk) (interpol_mesh_ccc_open_cases)", "{{desk}}")], width=8),
        Panel("Time to acknowledge (p90) by priority", [
            ("histogram_quantile(0.9, sum by (le, priority) (rate(interpol_mesh_ccc_time_to_acknowledge_seconds_bucket[1h])))", "{{priority}}"),
        ], unit="s", width=8),
        Panel("Escalations by priority", [("sum by (priority) (increase(interpol_mesh_ccc_escalations_total[1h]))", "{{priority}}")], width=12),
        Panel("Cases opened by priority", [("sum by (priority) (increase(interpol_mesh_ccc_cases_opened_total[1h]))", "{{priority}}")], width=12),
    ]),
    Row("NATS", [
        Panel("NATS servers up", [('up{job="nats"}', "{{pod}}")], width=8),
        Panel("Connections", [("nats_varz_connections", "{{pod}}")], width=8),
        Panel("Slow consumers", [("nats_varz_slow_consumers", "{{pod}}")], width=8),
        Panel("Messages in/out per second", [
            ("rate(nats_varz_in_msgs[$__rate_interval])", "{{pod}} in"),
            ("rate(nats_varz_out_msgs[$__rate_interval])", "{{pod}} out"),
        ], unit="ops"),
        Panel("Memory", [("nats_varz_mem", "{{pod}}")], unit="bytes"),
        Panel("Offices connected to the bus", [("sum(interpol_mesh_bus_connected)", "connected"), ("count(interpol_mesh_bus_connected == 0) or vector(0)", "disconnected")]),
        Panel("Scrape-time sampler failures", [("sum by (sampler) (rate(interpol_mesh_sample_failures_total[$__rate_interval]))", "{{sampler}}")], unit="ops"),
    ]),
]  # fmt: skip


def _panel(panel: Panel, pid: int, x: int, y: int) -> Json:
    return {
        "id": pid,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {},
        "targets": [
            {"refId": chr(ord("A") + n), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}
            for n, (expr, legend) in enumerate(panel.queries)
        ],
    }


def dashboard() -> Json:
    panels: list[Json] = []
    y, pid = 0, 1
    for row in ROWS:
        panels.append({"id": pid, "type": "row", "title": row.title, "collapsed": False, "panels": [],
                       "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}})  # fmt: skip
        pid, y, x = pid + 1, y + 1, 0
        for panel in row.panels:
            if x + panel.width > 24:
                x, y = 0, y + 8
            panels.append(_panel(panel, pid, x, y))
            pid, x = pid + 1, x + panel.width
        y += 8
    return {
        "title": "interpol-mesh: on call",
        "uid": "interpol-mesh",
        "tags": ["interpol-mesh"],
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "refresh": "30s",
        "time": {"from": "now-3h", "to": "now"},
        "timezone": "utc",
        "templating": {
            "list": [{"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus"}]
        },
        "panels": panels,
    }


def dashboard_queries(doc: Json) -> dict[str, str]:
    """`<file>: <panel title> [refId]` -> PromQL, for every target of a dashboard document."""
    return {f"{DASHBOARD}: {p['title']} [{t['refId']}]": t["expr"] for p in doc["panels"] for t in p.get("targets", [])}
