"""Node.js for the second-language tests (interop/node): under CI a failure, elsewhere a loud NOT RUN."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from interpol_mesh.testing.plugin import not_run

NODE_DIR = Path(__file__).resolve().parents[1] / "interop" / "node"
MIN_NODE_MAJOR = 20  # package.json "engines"; Debian bookworm's own nodejs is 18


def require_node(what: str, package: str) -> str:
    """The `node` binary, once it is recent enough and interop/node's npm `package` is installed."""
    node = shutil.which("node")
    if node is None:
        not_run(f"{what} did not run: `node` is not on PATH (install Node.js >= {MIN_NODE_MAJOR})", what="Node.js")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    major = version.lstrip("v").split(".")[0]
    if not major.isdigit() or int(major) < MIN_NODE_MAJOR:
        not_run(f"{what} did not run: node {version or '?'} is older than {MIN_NODE_MAJOR}", what="Node.js")
    if not (NODE_DIR / "node_modules" / package).is_dir():
        not_run(f"{what} did not run: interop/node/node_modules is missing (run `make install`)", what="npm install")
    return node
