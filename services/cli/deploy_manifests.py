"""Kubernetes manifests (kustomize) for the offices, rendered from the directory and the bus layout.

Why generated: which offices run in which region, and which NATS servers they reach, already live
in the directory (data/bus_regions.csv) and the layout (interpol_mesh.bus.supercluster). Writing
them again by hand in YAML would be a second source of truth that drifts; `make gen` writes these
files and `make check-gen` fails when the committed copies differ.

The shape (deploy/README.md, "Kubernetes"):

- `deploy/k8s/base/<role>/`: one base per office role package of services/ (ncb, regional_bureau,
  liaison_office, general_secretariat, ccc_router): a Deployment of one pod with one Uvicorn
  process (the image's `interpol-mesh serve`), its Service, PodDisruptionBudget and data volume.
- `deploy/k8s/overlays/<region>/`: the offices INTERPOL runs in that bus region (the GS, the CCC,
  the regional bureaus and liaison offices attached to it), each an `offices/<id>/` kustomization
  of its role's base, with the region's NATS servers in a generated ConfigMap.
- `deploy/k8s/overlays/country-example-fr/`: how a member country deploys its own NCB at its edge.

Secrets are only referenced by name (the office's keys, its database URL, the NATS CA); they are
created by the operator, never rendered here.
"""

from __future__ import annotations

from typing import Any

import yaml

from interpol_mesh.bus.supercluster import production_layout
from interpol_mesh.directory import BUS_REGIONS, BusRegion, Directory, Office, OfficeKind, load_directory
from interpol_offices.cli.k8s_resources import (
    BUS_CONFIGMAP,
    IMAGE,
    LABEL_DOMAIN,
    NAMESPACE,
    PROVISION,
    data_volume,
    deployment,
    disruption_budget,
    namespace,
    project_version,
    provision_job,
    role_folder,
    service,
)
from interpol_offices.cli.nats_helm_values import helm_values_files
from interpol_offices.roles import ROLE_PACKAGES

K8S = "deploy/k8s"
GENERATED = "Generated from the code by `make gen` (services/cli/deploy_manifests.py); do not edit by hand."
IMAGE_REGISTRY = "registry.mesh.interpol.example/interpol-mesh"  # replace with the organisation's registry
COUNTRY_EXAMPLE = "ncb.fr"

Json = dict[str, Any]
Files = dict[str, bytes]


def resource_name(office_id: str) -> str:
    """A DNS-1123 name for an office: `ncb.fr` -> `ncb-fr`, `rb.buenos-aires` -> `rb-buenos-aires`."""
    return office_id.replace(".", "-")


def keys_secret(office_id: str) -> str:
    return f"interpol-mesh-keys-{resource_name(office_id)}"


def database_secret(office_id: str) -> str:
    return f"interpol-mesh-db-{resource_name(office_id)}"


BASE_FILES = ("deployment.yaml", "service.yaml", "pdb.yaml", "pvc.yaml")


def base_files(kind: OfficeKind) -> dict[str, Json]:
    folder = f"{K8S}/base/{role_folder(kind)}"
    docs = [deployment(kind), service(kind), disruption_budget(kind), data_volume(kind)]
    files = {f"{folder}/{name}": doc for name, doc in zip(BASE_FILES, docs, strict=True)}
    files[f"{folder}/kustomization.yaml"] = _kustomization({"resources": list(BASE_FILES)})
    return files


# -- Overlays: one office, a region, a country ---------------------------------------------------


def _kustomization(body: Json) -> Json:
    return {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", **body}


def office_files(folder: str, office: Office, base: str) -> dict[str, Json]:
    """`folder/` turns its role's base (at `base`, relative to folder) into this one office."""
    kind = office.kind
    name = resource_name(office.id)
    body: Json = {"resources": [base]}
    if name != kind:
        body["nameSuffix"] = name[len(kind) :]
    body |= {
        "labels": [{"pairs": {"app.kubernetes.io/instance": name}, "includeSelectors": True}],
        "commonAnnotations": {f"{LABEL_DOMAIN}/office-id": office.id},
        "patches": [{"path": "office.yaml", "target": {"kind": "Deployment", "name": kind}}],
    }
    patch = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": kind},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "office",
                            "env": [
                                {"name": "OFFICE_ID", "value": office.id},
                                {
                                    "name": "DATABASE_URL",
                                    "valueFrom": {"secretKeyRef": {"name": database_secret(office.id), "key": "url"}},
                                },
                            ],
                        }
                    ],
                    "volumes": [{"name": "office-keys", "secret": {"secretName": keys_secret(office.id)}}],
                }
            }
        },
    }
    return {f"{folder}/kustomization.yaml": _kustomization(body), f"{folder}/office.yaml": patch}


def _bus_config(region: BusRegion) -> Json:
    return {
        "name": BUS_CONFIGMAP,
        "literals": [
            f"NATS_URL={production_layout().client_urls(region)}",
            "STREAM_REPLICAS=3",
            "BUS_TOPOLOGY=regions",
        ],
    }


def overlay_files(folder: str, region: BusRegion, offices: list[Office], *, provision: bool) -> dict[str, Json]:
    """An overlay: a namespace, the region's bus settings, one `offices/<id>/` per office, and in
    INTERPOL's regions the provisioning Job (a country's overlay has no admin credential)."""
    files: dict[str, Json] = {f"{folder}/namespace.yaml": namespace()}
    resources = ["namespace.yaml"]
    if provision:
        files[f"{folder}/{PROVISION}.yaml"] = provision_job()
        resources.append(f"{PROVISION}.yaml")
    for office in offices:
        files |= office_files(f"{folder}/offices/{office.id}", office, f"../../../../base/{role_folder(office.kind)}")
    body = {
        "namespace": NAMESPACE,
        "resources": [*resources, *(f"offices/{o.id}" for o in offices)],
        "labels": [
            {"pairs": {f"{LABEL_DOMAIN}/bus-region": region}, "includeSelectors": False, "includeTemplates": True}
        ],
        "configMapGenerator": [_bus_config(region)],
        "images": [{"name": IMAGE, "newName": IMAGE_REGISTRY, "newTag": project_version()}],
    }
    files[f"{folder}/kustomization.yaml"] = _kustomization(body)
    return files


def region_offices(directory: Directory, region: BusRegion) -> list[Office]:
    """What INTERPOL runs in a region: everything attached to it but the NCBs, which run at their countries."""
    return [o for o in directory.in_bus_region(region) if o.kind != "ncb"]


def overlay_folders(directory: Directory) -> dict[str, list[Office]]:
    """Each overlay's folder (under deploy/k8s/overlays) and the offices it deploys."""
    folders: dict[str, list[Office]] = {region: region_offices(directory, region) for region in BUS_REGIONS}
    country = directory.get(COUNTRY_EXAMPLE)
    folders[f"country-example-{COUNTRY_EXAMPLE.split('.', 1)[1]}"] = [country]
    return folders


def documents(directory: Directory) -> dict[str, Json]:
    files: dict[str, Json] = {}
    for kind in ROLE_PACKAGES:
        files |= base_files(kind)
    for folder, offices in overlay_folders(directory).items():
        region = offices[0].bus_region
        assert region is not None, "the loader attaches every office to a bus region"
        files |= overlay_files(f"{K8S}/overlays/{folder}", region, offices, provision=folder in BUS_REGIONS)
    return files


def _text(dumper: Any, value: str) -> Any:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


# PyYAML's safe dumper with multi-line strings (the seed script) as literal blocks, readable as written.
_Dumper: Any = type("_Dumper", (yaml.SafeDumper,), {})
_Dumper.add_representer(str, _text)


def dump_yaml(document: Json, header: str = GENERATED) -> bytes:
    """Block-style YAML in the order written (which is the order a reader expects), with the header."""
    text = yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1000
    )
    return f"# {header}\n{text}".encode()


def render_files(directory: Directory | None = None) -> Files:
    """Every file of deploy/k8s and deploy/nats/helm, path relative to the repository root -> bytes."""
    directory = directory or load_directory()
    files = {path: dump_yaml(doc) for path, doc in documents(directory).items()}
    files |= {path: dump_yaml(doc, header) for path, (doc, header) in helm_values_files().items()}
    return dict(sorted(files.items()))
