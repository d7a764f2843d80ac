"""Put on PYTHONPATH by `interpol-mesh load` for the mesh it starts: install the timing probe.

Python imports `sitecustomize` at start-up; with LOADTEST_TRACE_DIR set, every process of the
mesh (the `up` supervisor and each office process it starts) wraps the functions listed in
`interpol_offices.loadtest.probe`. Without the variable this file does nothing.
"""

import os

if os.environ.get("LOADTEST_TRACE_DIR"):
    from interpol_offices.loadtest.probe import install

    install(os.environ["LOADTEST_TRACE_DIR"])
