"""Values for the official NATS Helm chart (nats-io/k8s, helm/charts/nats), one file per bus region.

Why the chart and not our own StatefulSet: the NATS maintainers' chart already does the cluster
routes, the JetStream volume claims, the config reloader and the lame-duck shutdown right. What is
ours is the supercluster layout (interpol_mesh.bus.supercluster.production_layout): each region is
one cluster of three servers named after the region, with a gateway to the two other regions at
the addresses of that layout, so these values are rendered from it and checked by `make check-gen`.

Keys follow the chart's values.yaml (chart 2.14.x): `config.cluster`, `config.jetstream.fileStore`,
`config.gateway`, `config.leafnodes`, `config.serverNamePrefix`, `config.<protocol>.tls`, `tlsCA`,
`reloader`, `podTemplate`, `container`. Nothing here holds a secret: certificates and the rendered
auth.conf (one NKey user per office, interpol_mesh.bus.server_config), gzipped, come from Secrets by name.
"""

from __future__ import annotations

from typing import Any

from interpol_mesh.bus.supercluster import SERVERS_PER_REGION, Layout, ServerSpec, production_layout
from interpol_mesh.directory import BUS_REGIONS, BusRegion

HELM = "deploy/nats/helm"
CHART = "nats-io/k8s helm/charts/nats (keys as in the values.yaml of chart 2.14.2)"
AUTH_SECRET = "nats-auth"  # holds auth.conf.gz, rendered per deployment (deploy/README.md)
AUTH_DIR = "/etc/nats-config/auth"  # the chart resolves includes relative to /etc/nats-config
AUTH_GZ_DIR = "/etc/nats-auth-gz"
CA_SECRET = "nats-ca"
# The chart's own server image (values.yaml container.image), which has the busybox gunzip.
NATS_IMAGE = "nats:2.14.2-alpine"
# The chart's prometheus-nats-exporter sidecar (`-varz -jsz=all -prefix=nats`, reading the server's
# monitoring port in the same pod): deploy/prometheus scrapes it on this port.
EXPORTER_PORT = 7777

# auth.conf lists every office's publish subjects: about 1.5 MB for the 209 offices, above the 1 MiB
# a Kubernetes Secret can hold, and NATS cannot include a file inside the users array to split it.
# Gzipped it is about 130 kB; an init container unpacks it next to the config before the server
# starts. So a changed auth.conf takes a rolling restart (deploy/README.md), not a hot reload.
UNPACK_AUTH = f"gunzip -c {AUTH_GZ_DIR}/auth.conf.gz > {AUTH_DIR}/auth.conf"

Json = dict[str, Any]


def tls_secret(purpose: str) -> str:
    return f"nats-{purpose}-tls"


def _tls(purpose: str) -> Json:
    return {"enabled": True, "secretName": tls_secret(purpose)}


def _urls(servers: list[ServerSpec]) -> list[str]:
    return [f"tls://{s.host}:{s.gateway_port}" for s in servers]


def values(layout: Layout, region: BusRegion) -> Json:
    """The chart values of `region`'s cluster: three JetStream servers, gateways to the other regions."""
    own = layout.region(region)
    first = own[0]
    others = [{"name": other, "urls": _urls(layout.region(other))} for other in BUS_REGIONS if other != region]
    return {
        "fullnameOverride": "nats",
        "config": {
            # Pod names repeat in every region (nats-0..2); server names must be unique in the supercluster.
            "serverNamePrefix": f"{region}-",
            "cluster": {
                "enabled": True,
                "port": first.cluster_port,
                "replicas": SERVERS_PER_REGION,
                "tls": _tls("cluster"),
                # The chart names the cluster after the StatefulSet; a gateway needs it named after the region.
                "merge": {"name": region},
            },
            "jetstream": {
                "enabled": True,
                "fileStore": {"enabled": True, "dir": "/data", "pvc": {"enabled": True, "size": "10Gi"}},
                "memoryStore": {"enabled": True, "maxSize": "256Mi"},
            },
            "nats": {"port": first.client_port, "tls": _tls("client")},
            "leafnodes": {"enabled": True, "port": first.leaf_port, "tls": _tls("leafnodes")},
            "gateway": {
                "enabled": True,
                "port": first.gateway_port,
                "tls": _tls("gateway"),
                "merge": {"name": region, "gateways": others},
            },
            "monitor": {"enabled": True, "port": first.monitor_port},
            # The same limits as the single node (deploy/nats/nats-server.conf), and the office users.
            "merge": {
                "max_payload": 1024 * 1024,
                "max_pending": 64 * 1024 * 1024,
                "write_deadline": "10s",
                "00$include": "auth/auth.conf",
            },
        },
        "tlsCA": {"enabled": True, "secretName": CA_SECRET, "key": "ca.crt"},
        "container": {
            "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
            "patch": [
                {
                    "op": "add",
                    "path": "/volumeMounts/-",
                    "value": {"name": "auth", "mountPath": AUTH_DIR, "readOnly": True},
                }
            ],
        },
        # The chart's config reloader: a changed TLS certificate is applied without a restart.
        "reloader": {"enabled": True},
        # Metrics for deploy/prometheus (job `nats`) and the dashboard's NATS row; inside the pod, so the
        # monitoring port (which lists every connection) needs no exposure beyond it.
        "promExporter": {"enabled": True, "port": EXPORTER_PORT},
        "podTemplate": {
            "topologySpreadConstraints": {
                "kubernetes.io/hostname": {"maxSkew": 1, "whenUnsatisfiable": "DoNotSchedule"},
                "topology.kubernetes.io/zone": {"maxSkew": 1, "whenUnsatisfiable": "ScheduleAnyway"},
            },
            "merge": {
                "spec": {
                    "initContainers": [
                        {
                            "name": "auth-conf",
                            "image": NATS_IMAGE,
                            "command": ["sh", "-c", UNPACK_AUTH],
                            "volumeMounts": [
                                {"name": "auth-gz", "mountPath": AUTH_GZ_DIR, "readOnly": True},
                                {"name": "auth", "mountPath": AUTH_DIR},
                            ],
                        }
                    ]
                }
            },
            "patch": [
                {"op": "add", "path": "/spec/volumes/-", "value": {"name": "auth", "emptyDir": {}}},
                {
                    "op": "add",
                    "path": "/spec/volumes/-",
                    "value": {"name": "auth-gz", "secret": {"secretName": AUTH_SECRET}},
                },
            ],
        },
        "service": {"ports": {"gateway": {"enabled": True}, "leafnodes": {"enabled": True}}},
        "podDisruptionBudget": {"enabled": True},
        # No credential-less client inside the cluster: operators use their own NKey with the nats CLI.
        "natsBox": {"enabled": False},
    }


def header(region: BusRegion, layout: Layout) -> str:
    servers = ", ".join(s.host for s in layout.region(region))
    return (
        "Generated from the code by `make gen` (services/cli/nats_helm_values.py); do not edit by hand.\n"
        f"# Values for {CHART}: the {region} cluster ({servers}).\n"
        f"# helm upgrade --install nats nats/nats -n nats -f deploy/nats/helm/values-{region}.yaml\n"
        "# Shutdown: the chart's preStop hook puts the server in lame-duck mode (nats-server --signal ldm),\n"
        "# so clients move to the other servers of the region before it stops; nothing here changes that."
    )


def helm_values_files(layout: Layout | None = None) -> dict[str, tuple[Json, str]]:
    """`deploy/nats/helm/values-<region>.yaml` -> (values, header comment), for each bus region."""
    layout = layout or production_layout()
    return {f"{HELM}/values-{region}.yaml": (values(layout, region), header(region, layout)) for region in BUS_REGIONS}
