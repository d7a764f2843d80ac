"""Load test and benchmarks: simulated member traffic through the real APIs and the real bus.

One concept per module:

| module | what |
|---|---|
| `traffic` | the mix of operations an NCB performs, with its weights and their sources |
| `bodies` | request bodies in each NCB's working language |
| `arrivals` | Poisson arrivals per NCB, scaled to a total rate, with a regional burst |
| `httpclient` | a small keep-alive HTTP/1.1 client (the generator must not eat the mesh's CPU) |
| `generator` | drives the offices' HTTP APIs according to the arrivals |
| `traces` | follows the span files the offices export (`OTEL_TRACES_EXPORTER=file`, `TRACE_DIR/<pid>.jsonl`) |
| `spans` | turns `sign`, `publish`, `deliver`, `verify` and `commit` spans into stage records per message and recipient |
| `tracker` | joins client observations and stage records per message and recipient; the stages |
| `meshrun`, `credentials` | starts a mesh exporting its spans with `interpol-mesh up`, or attaches to a running one; staff tokens |
| `notices` | publishes the notices that hit reports refer to (the broadcast case) |
| `accounting` | loss and duplicates from the recipients' own databases |
| `stats` | percentiles and per-second series |
| `report`, `plot`, `progress` | terminal table and JSON, self-contained HTML picture, live progress line |
| `options`, `command` | `interpol-mesh load` |
| `bench_raw`, `bench_mesh`, `bench` | `make bench`: the raw nats-py/PyNaCl/asyncpg ceiling against the mesh |
| `bench_replicas` | `make bench-regions`: R1 against R3 in the supercluster, raw JetStream and through the mesh |
| `profiling` | py-spy on office processes, summarised |
| `locustfile` | the HTTP side for Locust (headless) |
"""
