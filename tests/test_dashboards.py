"""deploy/prometheus and deploy/grafana: generated, and every query names a metric the code exports."""

from __future__ import annotations

import json

import pytest
import yaml
from prometheus_client import CollectorRegistry, Gauge, Histogram

from interpol_mesh.directory import load_directory
from interpol_offices.cli import generate, grafana_dashboard, monitoring_files
from interpol_offices.cli.deploy_manifests import overlay_folders
from interpol_offices.cli.grafana_dashboard import DASHBOARD, Panel, Row
from interpol_offices.cli.label_names import known_labels, registry_labels, target_labels, unknown_labels
from interpol_offices.cli.metric_names import known_names, metric_names, unknown_names
from interpol_offices.cli.nats_helm_values import EXPORTER_PORT, helm_values_files
from interpol_offices.cli.prometheus_config import PROMETHEUS, TOKEN_DIR

ROOT = generate.ROOT


def _committed() -> dict[str, bytes]:
    return {rel: (ROOT / rel).read_bytes() for rel in monitoring_files.render_files()}


def test_committed_files_are_what_the_generator_renders_and_nothing_else() -> None:
    assert _committed() == monitoring_files.render_files(), "run make gen"
    on_disk = {
        p.relative_to(ROOT).as_posix() for folder in (PROMETHEUS, "deploy/grafana") for p in (ROOT / folder).rglob("*")
    }
    assert on_disk == set(monitoring_files.render_files())


def test_every_query_of_the_committed_dashboard_and_alerts_names_an_exported_metric() -> None:
    files = _committed()
    queries = monitoring_files.queries(files)
    assert len(queries) > 30 and sum(1 for q in queries if "alerts.yml" in q) == 5
    assert monitoring_files.problems(files) == []
    named = set().union(*(metric_names(q) for q in queries.values()))
    # What on-call needs first is there (the brief's list), by the names the code exports.
    for name in ("interpol_mesh_office_ready", "interpol_mesh_outbox_pending_rows", "interpol_mesh_outbox_oldest_age_seconds",
                 "interpol_mesh_consumer_pending_messages", "interpol_mesh_consumer_redelivered_messages",
                 "interpol_mesh_messages_quarantined_total", "interpol_mesh_send_to_commit_seconds_bucket",
                 "interpol_mesh_stage_seconds_bucket", "interpol_mesh_token_refusals_total",
                 "interpol_mesh_signature_failures_total", "interpol_mesh_ccc_open_cases",
                 "interpol_mesh_ccc_time_to_acknowledge_seconds_bucket", "nats_varz_connections", "up"):  # fmt: skip
        assert name in named, name


def test_a_wrong_metric_name_fails_the_check() -> None:
    files = _committed()
    doc = json.loads(files[DASHBOARD])
    target = next(p for p in doc["panels"] if p.get("targets"))["targets"][0]
    target["expr"] = "sum(rate(interpol_mesh_messages_sent[5m]))"  # the counter is ..._total
    files[DASHBOARD] = json.dumps(doc).encode()
    alerts = yaml.safe_load(files[monitoring_files.ALERTS])
    alerts["groups"][0]["rules"][1]["expr"] = "interpol_mesh_outbox_oldest_age > 300"
    files[monitoring_files.ALERTS] = yaml.safe_dump(alerts).encode()
    found = monitoring_files.problems(files)
    assert len(found) == 2, found
    assert any(": interpol_mesh_messages_sent is not exported" in line for line in found), found
    assert any(line.startswith(f"{monitoring_files.ALERTS}: InterpolMeshOutboxStuck: interpol_mesh_outbox_oldest_age ") for line in found)  # fmt: skip


def test_the_generator_refuses_a_panel_on_a_metric_nobody_exports(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [*grafana_dashboard.ROWS, Row("Typo", [Panel("Oops", [("nats_varz_conections", "{{pod}}")])])]
    monkeypatch.setattr(grafana_dashboard, "ROWS", rows)
    with pytest.raises(SystemExit, match="Oops \\[A\\]: nats_varz_conections is not exported"):
        generate.render()


def test_a_wrong_label_fails_the_check() -> None:
    files = _committed()
    doc = json.loads(files[DASHBOARD])
    panel = next(p for p in doc["panels"] if p["title"] == "Open cases by priority")
    panel["targets"][0]["expr"] = "sum by (prio) (interpol_mesh_ccc_open_cases)"  # the label is `priority`
    files[DASHBOARD] = json.dumps(doc).encode()
    alerts = yaml.safe_load(files[monitoring_files.ALERTS])
    rule = next(r for r in alerts["groups"][0]["rules"] if r["alert"] == "InterpolMeshCccCriticalUnacknowledged")
    rule["expr"] = 'sum(increase(interpol_mesh_ccc_escalations_total{priorty="critical"}[10m])) > 0'
    files[monitoring_files.ALERTS] = yaml.safe_dump(alerts).encode()
    found = monitoring_files.problems(files)
    assert len(found) == 2, found
    assert any("Open cases by priority [A]: label 'prio' in by (...) is not a label of interpol_mesh_ccc_open_cases" in f
               for f in found), found  # fmt: skip
    assert any(f.startswith(f"{monitoring_files.ALERTS}: InterpolMeshCccCriticalUnacknowledged: label 'priorty'")
               for f in found), found  # fmt: skip


def test_the_generator_refuses_a_label_the_metric_does_not_have(monkeypatch: pytest.MonkeyPatch) -> None:
    query = "sum by (reason) (rate(interpol_mesh_messages_sent_total[5m]))"  # sent is counted by kind only
    rows = [*grafana_dashboard.ROWS, Row("Typo", [Panel("Oops", [(query, "{{reason}}")])])]
    monkeypatch.setattr(grafana_dashboard, "ROWS", rows)
    with pytest.raises(SystemExit, match="Oops \\[A\\]: label 'reason' in by"):
        generate.render()


LABELS = {
    "a": frozenset({"kind"}),
    "a_bucket": frozenset({"kind", "le"}),
    "info": frozenset({"office_kind", "bus_region"}),
}


@pytest.mark.parametrize(
    ("query", "wrong"),
    [
        ('sum by (kind, office) (a{job=~"office/.+", kind="x"})', []),  # office, job: target labels
        ("histogram_quantile(0.9, sum by (le, kind) (rate(a_bucket[5m])))", []),
        ("sum by (le) (a)", ["le"]),  # only a histogram's _bucket has le
        ("sum(rate(a[5m])) by (reason)", ["reason"]),  # the trailing form
        ("sum without (kind) (a{reason=\"x\"})", ["reason"]),
        ("(a < 1) * on(office) group_left(office_kind, bus_region) info", []),
        ("(a < 1) * on(office) group_left(region) info", ["region"]),
        ("(a < 1) * on(office_kind) group_left(bus_region) info", ["office_kind"]),  # not on the left operand
        ("count(nope{x=\"y\"}) or vector(0)", []),  # an unknown metric: the name check's business
    ],
)  # fmt: skip
def test_label_names_of_a_query_are_checked_in_their_scope(query: str, wrong: list[str]) -> None:
    found = unknown_labels({"q": query}, {"office"}, LABELS)
    assert [line.split("'")[1] for line in found] == wrong, found


def test_labels_come_from_the_registry_so_a_code_change_is_followed() -> None:
    registry = CollectorRegistry()
    Gauge("x_info", "doc", ["office_kind", "bus_region"], registry=registry)
    Histogram("x_seconds", "doc", ["stage"], registry=registry)
    labels = registry_labels(registry)
    assert labels["x_info"] == {"office_kind", "bus_region"}
    assert labels["x_seconds_bucket"] == {"stage", "le"} and labels["x_seconds_count"] == {"stage"}
    assert known_labels()["interpol_mesh_ccc_open_cases"] >= {"priority", "desk"}
    assert target_labels(
        [{"relabel_configs": [{"target_label": "office", "replacement": "gs"}, {"action": "keep"}]}]
    ) == {"office"}


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ('histogram_quantile(0.99, sum by (le, stage) (rate(interpol_mesh_stage_seconds_bucket{office=~"$o"}[$__rate_interval])))',
         {"interpol_mesh_stage_seconds_bucket"}),
        ('(a_ready < 1) or (up{job=~"office/.+"} == 0)', {"a_ready", "up"}),
        ("sum without (kind) (increase(b_total[5m] offset 1h)) > 1e3", {"b_total"}),
        ("count(c == 0) or vector(0)", {"c"}),
        ('sum(d{reason="bad-signature"}) / ignoring(reason) group_left sum(e)', {"d", "e"}),
    ],
)  # fmt: skip
def test_metric_names_of_a_query(query: str, names: set[str]) -> None:
    assert metric_names(query) == names


def test_known_names_are_the_catalogue_and_an_explicit_list() -> None:
    known = known_names()
    assert "interpol_mesh_messages_sent_total" in known and "interpol_mesh_ccc_open_cases" in known
    assert "interpol_mesh_messages_sent" not in known  # counters are exported with _total only
    assert unknown_names({"x": "nats_varz_anything_else"}) != []  # the NATS list is explicit, not a prefix


def test_prometheus_scrapes_every_deployed_office_with_its_own_token_and_the_nats_exporters() -> None:
    config = yaml.safe_load((ROOT / PROMETHEUS / "prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    deployed = {o.id for offices in overlay_folders(load_directory()).values() for o in offices}
    assert {j.removeprefix("office/") for j in jobs if j.startswith("office/")} == deployed
    for office_id in deployed:
        job = jobs[f"office/{office_id}"]
        assert job["authorization"] == {"type": "Bearer", "credentials_file": f"{TOKEN_DIR}/{office_id}.token"}
        assert {"target_label": "office", "replacement": office_id} in job["relabel_configs"]
        # kind and region come from office_info (a join), never as target labels: they would collide.
        assert {r.get("target_label") for r in job["relabel_configs"]} == {None, "office"}
    keep = jobs["nats"]["relabel_configs"][0]
    assert keep["action"] == "keep" and keep["regex"] == str(EXPORTER_PORT)
    for path in helm_values_files():
        values = yaml.safe_load((ROOT / path).read_text())
        assert values["promExporter"] == {"enabled": True, "port": EXPORTER_PORT}, path
    assert config["rule_files"] == ["alerts.yml"]
    names = [r["alert"] for r in yaml.safe_load((ROOT / PROMETHEUS / "alerts.yml").read_text())["groups"][0]["rules"]]
    assert names == ["InterpolMeshOfficeNotReady", "InterpolMeshOutboxStuck", "InterpolMeshQuarantineGrowing",
                     "InterpolMeshCccCriticalUnacknowledged", "InterpolMeshSamplerFailing"]  # fmt: skip


def test_dashboard_layout_is_valid_grafana() -> None:
    doc = json.loads((ROOT / DASHBOARD).read_text())
    ids = [p["id"] for p in doc["panels"]]
    assert len(ids) == len(set(ids))
    for panel in doc["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        for target in panel.get("targets", []):
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    assert doc["templating"]["list"][0]["type"] == "datasource" and doc["uid"] == "interpol-mesh"
    cells = [(p["gridPos"]["y"] + dy, p["gridPos"]["x"] + dx) for p in doc["panels"]
             for dy in range(p["gridPos"]["h"]) for dx in range(p["gridPos"]["w"])]  # fmt: skip
    assert len(cells) == len(set(cells)), "panels overlap"
