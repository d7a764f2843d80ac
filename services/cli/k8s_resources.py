"""The Kubernetes resources of an office and of the bus provisioning, in the shape of a role's base.

Why in code: the pod is bound to the image (its user, DATA_DIR, port and command, see the
Dockerfile) and to the settings (the environment variables an office reads), and tests/test_deploy.py
checks these against both; the kustomize layout that places them is in deploy_manifests.py.

Every pod is locked down to the "restricted" Pod Security Standard: non-root, no privilege
escalation, no capabilities, a read-only root file system, the runtime's seccomp profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from interpol_mesh.directory import OfficeKind
from interpol_offices.roles import ROLE_PACKAGES

APP = "interpol-mesh"
IMAGE = "interpol-mesh"  # the name in the bases; overlays map it to a registry (`images:`)
NAMESPACE = "interpol-mesh"
LABEL_DOMAIN = "mesh.interpol.example"
DATA_DIR = "/var/lib/interpol-mesh"  # the image's DATA_DIR and the mesh user's home (Dockerfile)
HTTP_PORT = 8000
UID = 10001  # the image's `mesh` user (Dockerfile)
NATS_CA_DIR = "/etc/interpol-mesh/nats-ca"
KEYS_SECRET_DIR = "/etc/interpol-mesh/office-keys"

Json = dict[str, Any]


@dataclass(frozen=True)
class RoleSpec:
    """What differs between roles: the sizes. Starting values, to be replaced by measured ones."""

    cpu_request: str
    memory_request: str
    memory_limit: str
    volume: str


# The GS (key directory, notices) and the CCC (every desk's queue) carry more state than an NCB.
ROLE_SPECS: dict[OfficeKind, RoleSpec] = {
    "ncb": RoleSpec("100m", "256Mi", "768Mi", "2Gi"),
    "rb": RoleSpec("100m", "256Mi", "768Mi", "2Gi"),
    "lo": RoleSpec("100m", "256Mi", "768Mi", "2Gi"),
    "gs": RoleSpec("250m", "512Mi", "1536Mi", "5Gi"),
    "ccc": RoleSpec("250m", "512Mi", "1536Mi", "5Gi"),
}


def project_version() -> str:
    try:
        return version("interpol-mesh")
    except PackageNotFoundError:  # pragma: no cover - the generator runs from an installed checkout
        return "0.0.0"


def role_folder(kind: OfficeKind) -> str:
    """The base's folder and component label: the role's package in services/ (e.g. regional_bureau)."""
    return ROLE_PACKAGES[kind].rsplit(".", 1)[1]


NATS_CA_SECRET = "interpol-mesh-nats-ca"
ADMIN_SECRET = "interpol-mesh-admin-nkey"  # holds mesh-admin.nk, the one identity that may create consumers
BUS_CONFIGMAP = "interpol-mesh-bus"
PROVISION = "provision-bus"  # the component label of the provisioning Job: not an office role


# Secret files are owned by root; 0440 with the pod's fsGroup lets the unprivileged user (and only
# its group) read them.

# -- Bases: one per office role ------------------------------------------------------------------


def _role_labels(kind: OfficeKind) -> dict[str, str]:
    return {"app.kubernetes.io/name": APP, "app.kubernetes.io/component": role_folder(kind)}


def _labels(kind: OfficeKind | None) -> dict[str, str]:
    component = role_folder(kind) if kind else PROVISION
    return {
        "app.kubernetes.io/name": APP,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": APP,
        "app.kubernetes.io/version": project_version(),
        "app.kubernetes.io/managed-by": "kustomize",
    }


def _meta(name: str, kind: OfficeKind) -> Json:
    return {"name": name, "labels": _labels(kind)}


def _probe(path: str, period: int, failures: int) -> Json:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }


_LOCKED_DOWN = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
}

# The office's keys come from its Secret once; afterwards they live on the office's volume, since
# key rotation writes `<office>.next.key` and promotes it (messaging/rotation.py). A restart must
# not bring a retired key back, so nothing already on the volume is overwritten.
SEED_KEYS = f"""set -eu
mkdir -p "$DATA_DIR/keys"
chmod 700 "$DATA_DIR/keys"
for f in {KEYS_SECRET_DIR}/*; do
  t="$DATA_DIR/keys/${{f##*/}}"
  if [ ! -e "$t" ]; then cp "$f" "$t"; chmod 600 "$t"; echo "seeded ${{f##*/}}"; fi
done"""


_POD_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": UID,
    "runAsGroup": UID,
    "fsGroup": UID,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def deployment(kind: OfficeKind) -> Json:
    spec = ROLE_SPECS[kind]
    name = kind
    data_mount = {"name": "data", "mountPath": DATA_DIR}
    office = {
        "name": "office",
        "image": IMAGE,
        # No command or args: the image's ENTRYPOINT + CMD (`interpol-mesh serve`), which the tests run.
        "ports": [{"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}],
        "env": [
            {"name": "OFFICE_ID", "value": ""},  # set by each office's overlay; empty is a clear error
            {"name": "HOST", "value": "0.0.0.0"},
            {"name": "PORT", "value": str(HTTP_PORT)},
            {"name": "DATA_DIR", "value": DATA_DIR},
            {"name": "NATS_TLS_CA", "value": f"{NATS_CA_DIR}/ca.crt"},
            {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "interpol-mesh-db", "key": "url"}}},
        ],
        "envFrom": [{"configMapRef": {"name": BUS_CONFIGMAP}}],
        # Start-up runs the database migrations and the bus handshake before the port opens.
        "startupProbe": _probe("/healthz", 5, 60),
        "livenessProbe": _probe("/healthz", 10, 3),
        "readinessProbe": _probe("/readyz", 5, 2),
        "resources": {
            "requests": {"cpu": spec.cpu_request, "memory": spec.memory_request},
            "limits": {"memory": spec.memory_limit},
        },
        "securityContext": _LOCKED_DOWN,
        "volumeMounts": [
            data_mount,
            {"name": "nats-ca", "mountPath": NATS_CA_DIR, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    seed = {
        "name": "seed-keys",
        "image": IMAGE,
        "command": ["sh", "-c", SEED_KEYS],
        "env": [{"name": "DATA_DIR", "value": DATA_DIR}],
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "64Mi"}},
        "securityContext": _LOCKED_DOWN,
        "volumeMounts": [data_mount, {"name": "office-keys", "mountPath": KEYS_SECRET_DIR, "readOnly": True}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name, kind),
        "spec": {
            # One process per office: it is the only consumer of its inbox and the only relay of its
            # outbox, and its keys and (SQLite) data are on one ReadWriteOnce volume; Recreate so that
            # an update never runs two copies at once.
            "replicas": 1,
            "revisionHistoryLimit": 3,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": _role_labels(kind)},
            "template": {
                "metadata": {"labels": _labels(kind)},
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,  # no injected *_PORT variables next to the office's PORT
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": _POD_SECURITY,
                    "initContainers": [seed],
                    "containers": [office],
                    "volumes": [
                        {"name": "data", "persistentVolumeClaim": {"claimName": name}},
                        {"name": "office-keys", "secret": {"secretName": "interpol-mesh-keys", "defaultMode": 0o440}},
                        {"name": "nats-ca", "secret": {"secretName": NATS_CA_SECRET, "defaultMode": 0o444}},
                        {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
                    ],
                },
            },
        },
    }


def service(kind: OfficeKind) -> Json:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(kind, kind),
        "spec": {
            "type": "ClusterIP",
            "selector": _role_labels(kind),
            "ports": [{"name": "http", "port": HTTP_PORT, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def disruption_budget(kind: OfficeKind) -> Json:
    # A single-pod office cannot stay up through a voluntary eviction; maxUnavailable 1 lets a node
    # drain proceed (minAvailable 1 would block it forever). While it is down, envelopes addressed
    # to it wait in the replicated stream and its senders' outboxes (deploy/README.md).
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(kind, kind),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": _role_labels(kind)}},
    }


def data_volume(kind: OfficeKind) -> Json:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": _meta(kind, kind),  # the same name as its Deployment
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": ROLE_SPECS[kind].volume}}},
    }


def provision_job() -> Json:
    """`interpol-mesh provision` as mesh-admin: the streams and every office's consumer, before the offices.

    Offices cannot create their own consumers on a secured server; the Job is idempotent, so it is
    safe to run on every apply. It deletes itself an hour after it finished, so that the next apply
    (a new image) creates it again instead of failing on a Job's immutable template.
    """
    labels = _labels(None)
    container = {
        "name": "provision",
        "image": IMAGE,
        "args": ["provision"],
        "env": [
            {"name": "DATA_DIR", "value": DATA_DIR},
            {"name": "NATS_TLS_CA", "value": f"{NATS_CA_DIR}/ca.crt"},
        ],
        "envFrom": [{"configMapRef": {"name": BUS_CONFIGMAP}}],
        "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "384Mi"}},
        "securityContext": _LOCKED_DOWN,
        "volumeMounts": [
            {"name": "admin-nkey", "mountPath": f"{DATA_DIR}/keys", "readOnly": True},
            {"name": "nats-ca", "mountPath": NATS_CA_DIR, "readOnly": True},
        ],
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": PROVISION, "labels": labels},
        "spec": {
            "backoffLimit": 10,
            "ttlSecondsAfterFinished": 3600,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "restartPolicy": "OnFailure",
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": _POD_SECURITY,
                    "containers": [container],
                    "volumes": [
                        {"name": "admin-nkey", "secret": {"secretName": ADMIN_SECRET, "defaultMode": 0o440}},
                        {"name": "nats-ca", "secret": {"secretName": NATS_CA_SECRET, "defaultMode": 0o444}},
                    ],
                },
            },
        },
    }


def namespace() -> Json:
    # Every pod of the mesh meets the "restricted" Pod Security Standard; the namespace enforces it.
    level = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE, "labels": level}}
