"""`interpol-mesh provision`: create the streams and every office's consumer, as the admin user.

Offices may not create streams or consumers (their NATS permissions stop them), so a deployment
that is not started by `interpol-mesh up` (Kubernetes: the `provision-bus` Job of deploy/k8s) runs
this once per release and whenever the directory gains an office. It is idempotent: what exists is
kept, or brought to this version's limits.
"""

from __future__ import annotations

from interpol_mesh.bus import BusStatus, StreamPlan, connect, provision_topology
from interpol_mesh.bus.credentials import ADMIN_USER
from interpol_mesh.directory import Directory
from interpol_mesh.errors import ConfigError, DependencyUnavailable
from interpol_mesh.settings import OfficeSettings


async def provision_bus(settings: OfficeSettings, directory: Directory) -> str:
    seed = settings.key_dir / f"{ADMIN_USER}.nk"
    if not seed.exists():
        raise ConfigError(f"{seed} is missing: provisioning connects as {ADMIN_USER} (its NKey seed file)")
    nc = await connect(
        settings.nats_url, "interpol-mesh provisioning", BusStatus(), nkey_seed=seed, tls_ca=settings.tls_ca()
    )
    try:
        plan = StreamPlan(directory, settings.bus_topology, settings.stream_replicas)
        await provision_topology(nc.jetstream(), plan)
    except ConfigError:
        raise  # already one line that names the stream and the way out
    except Exception as exc:
        raise DependencyUnavailable(f"NATS at {settings.nats_url} has no usable JetStream: {exc}") from None
    finally:
        await nc.close()
    return (
        f"provisioned the streams (R{settings.stream_replicas}, topology {settings.bus_topology}) and "
        f"{len(directory.offices)} office consumers at {settings.nats_url}"
    )
