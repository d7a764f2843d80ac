"""deploy/prometheus and deploy/grafana as files, and the check that their queries name real metrics and labels.

The check reads the rendered files back (YAML, JSON), so the same function checks what the
generator is about to write and what is committed (tests/test_dashboards.py).
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from interpol_offices.cli.deploy_manifests import dump_yaml
from interpol_offices.cli.grafana_dashboard import DASHBOARD, dashboard, dashboard_queries
from interpol_offices.cli.label_names import target_labels, unknown_labels
from interpol_offices.cli.metric_names import status_problems, unknown_names
from interpol_offices.cli.prometheus_config import PROMETHEUS, prometheus_documents

GENERATED = "Generated from the code by `make gen` (services/cli/monitoring_files.py); do not edit by hand."
ALERTS = f"{PROMETHEUS}/alerts.yml"
SCRAPE = f"{PROMETHEUS}/prometheus.yml"

Files = dict[str, bytes]


def render_files() -> Files:
    """Every file of deploy/prometheus and deploy/grafana, path relative to the repository root -> bytes."""
    files = {path: dump_yaml(doc, GENERATED) for path, doc in prometheus_documents().items()}
    files[DASHBOARD] = (json.dumps(dashboard(), indent=2, ensure_ascii=False) + "\n").encode()
    return dict(sorted(files.items()))


def queries(files: Files) -> dict[str, str]:
    """Every PromQL expression of the alerting rules and the dashboard, by where it is."""
    found: dict[str, str] = {}
    rules: Any = yaml.safe_load(files[ALERTS])
    for group in rules["groups"]:
        for rule in group["rules"]:
            found[f"{ALERTS}: {rule['alert']}"] = rule["expr"]
    found |= dashboard_queries(json.loads(files[DASHBOARD]))
    return found


def problems(files: Files) -> list[str]:
    """One line per query naming a metric nobody exports or a label its metrics do not carry (nor the
    scrape configuration adds), and per status figure not exported."""
    found = queries(files)
    scrape: Any = yaml.safe_load(files[SCRAPE])
    return unknown_names(found) + unknown_labels(found, target_labels(scrape["scrape_configs"])) + status_problems()
