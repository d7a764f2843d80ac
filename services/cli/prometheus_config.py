"""deploy/prometheus: the scrape configuration (offices, NATS exporters) and the alerting rules.

Why one job per office: an office accepts only tokens it issued itself (`aud` is the office), and
Prometheus sets credentials per job, so each office gets its own job and token file. The targets
come from Kubernetes service discovery (role `service`, the office's Service by its instance
label) rather than fixed addresses, so the same file serves every region's cluster and a
country's: a job whose office does not run in this cluster finds no target and stays silent,
while an office whose pod is down keeps its target and shows as `up == 0`.
The offices listed are those deploy/k8s renders (the region overlays and the country example);
a country adds its own NCB's job the same way.
"""

from __future__ import annotations

from typing import Any

from interpol_mesh.directory import Directory, Office, load_directory
from interpol_offices.cli.deploy_manifests import overlay_folders, resource_name
from interpol_offices.cli.k8s_resources import NAMESPACE
from interpol_offices.cli.nats_helm_values import EXPORTER_PORT

PROMETHEUS = "deploy/prometheus"
TOKEN_DIR = "/etc/prometheus/interpol-mesh-tokens"  # the Secret interpol-mesh-prometheus-tokens, mounted
TOKEN_SECRET = "interpol-mesh-prometheus-tokens"
NATS_NAMESPACE = "nats"
OFFICE_JOB_PREFIX = "office/"

Json = dict[str, Any]


def monitored_offices(directory: Directory) -> list[Office]:
    """The offices deploy/k8s deploys, in id order."""
    seen = {o.id: o for offices in overlay_folders(directory).values() for o in offices}
    return [seen[k] for k in sorted(seen)]


def token_file(office_id: str) -> str:
    return f"{TOKEN_DIR}/{office_id}.token"


def office_job(office: Office) -> Json:
    return {
        "job_name": f"{OFFICE_JOB_PREFIX}{office.id}",
        "metrics_path": "/metrics",
        # Read again at every scrape: a renewed token file takes effect without a reload.
        "authorization": {"type": "Bearer", "credentials_file": token_file(office.id)},
        "kubernetes_sd_configs": [
            {
                "role": "service",
                "namespaces": {"names": [NAMESPACE]},
                "selectors": [{"role": "service", "label": f"app.kubernetes.io/instance={resource_name(office.id)}"}],
            }
        ],
        "relabel_configs": [
            {"source_labels": ["__meta_kubernetes_service_port_name"], "regex": "http", "action": "keep"},
            # Only `office`: kind and bus region are labels of interpol_mesh_office_info, joined where
            # needed (INFO_JOIN); as target labels too they would collide and arrive as exported_*.
            {"target_label": "office", "replacement": office.id},
        ],
    }


# Where a query needs an office's kind or bus region: `<expr> * INFO_JOIN` (office_info is always 1).
INFO_JOIN = "on(office) group_left(office_kind, bus_region) interpol_mesh_office_info"


def nats_job() -> Json:
    """The prometheus-nats-exporter sidecar of every NATS server pod (the chart's promExporter)."""
    return {
        "job_name": "nats",
        "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": [NATS_NAMESPACE]}}],
        "relabel_configs": [
            {
                "source_labels": ["__meta_kubernetes_pod_container_port_number"],
                "regex": str(EXPORTER_PORT),
                "action": "keep",
            },
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
        ],
    }


def prometheus_config(directory: Directory) -> Json:
    return {
        "global": {"scrape_interval": "15s", "scrape_timeout": "10s", "evaluation_interval": "15s"},
        "rule_files": ["alerts.yml"],
        "scrape_configs": [office_job(o) for o in monitored_offices(directory)] + [nats_job()],
    }


# (name, expr, for, severity, summary, description); the exprs are checked against the catalogue.
ALERTS: list[tuple[str, str, str, str, str, str]] = [
    ("InterpolMeshOfficeNotReady",
     f'(interpol_mesh_office_ready < 1) or (up{{job=~"{OFFICE_JOB_PREFIX}.+"}} == 0)', "5m", "page",
     "Office {{ $labels.office }} is not ready",
     "/readyz has said degraded or unavailable (or the office did not answer its scrape) for 5 minutes: "
     "`interpol-mesh status` or the office's /readyz names the reason."),
    ("InterpolMeshOutboxStuck", "interpol_mesh_outbox_oldest_age_seconds > 300", "5m", "page",
     "Office {{ $labels.office }}: oldest unpublished outbox row is {{ $value | humanizeDuration }} old",
     "Sends are committed but JetStream has not acknowledged them: the bus is unreachable or refusing "
     "(see publish failures by reason)."),
    ("InterpolMeshQuarantineGrowing",
     "sum by (office, reason) (increase(interpol_mesh_messages_quarantined_total[15m])) > 10", "0m", "ticket",
     "Office {{ $labels.office }} quarantined {{ $value }} envelopes for {{ $labels.reason }} in 15 minutes",
     "Refused envelopes are stored in quarantine; a burst of one reason (bad-signature, unknown key) is "
     "a misconfigured or impersonated sender."),
    ("InterpolMeshCccCriticalUnacknowledged",
     'sum(increase(interpol_mesh_ccc_escalations_total{priority="critical"}[10m])) > 0', "0m", "page",
     "A critical CCC case was escalated: nobody acknowledged it in time",
     "The CCC's timers escalate a case that stays unacknowledged past its priority's deadline; open "
     "cases by desk are on the dashboard."),
    ("InterpolMeshSamplerFailing", "increase(interpol_mesh_sample_failures_total[5m]) > 0", "0m", "ticket",
     "Office {{ $labels.office }}: the {{ $labels.sampler }} sampler failed at scrape time",
     "A scrape-time sampler (ready, database, consumer, bus; the CCC's open cases) raised or timed out: the gauges it "
     "feeds are not current, so trust /readyz and the office's logs over them until this clears."),
]  # fmt: skip


def alert_rules() -> Json:
    rules = [
        {
            "alert": name,
            "expr": expr,
            **({"for": duration} if duration != "0m" else {}),
            "labels": {"severity": severity},
            "annotations": {"summary": summary, "description": description},
        }
        for name, expr, duration, severity, summary, description in ALERTS
    ]
    return {"groups": [{"name": "interpol-mesh", "rules": rules}]}


def alert_queries() -> dict[str, str]:
    return {f"{PROMETHEUS}/alerts.yml: {name}": expr for name, expr, *_ in ALERTS}


def prometheus_documents(directory: Directory | None = None) -> dict[str, Json]:
    directory = directory or load_directory()
    return {f"{PROMETHEUS}/prometheus.yml": prometheus_config(directory), f"{PROMETHEUS}/alerts.yml": alert_rules()}
