# One image for every office role (NCB, regional bureau, liaison office, General Secretariat, CCC):
# the office is chosen at run time by OFFICE_ID, so a platform team builds, scans and signs one image.
# Rendered Kubernetes manifests that run it: deploy/k8s/ (deploy/README.md, "Kubernetes").
# Not built in CI (no Docker engine there): tests/test_deploy.py lints this file with hadolint and runs
# its ENTRYPOINT + CMD against a real nats-server outside a container.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# Only what the package needs (see .dockerignore): the wheel is built from a clean copy of the sources.
COPY pyproject.toml README.md LICENSE ./
COPY shared ./shared
COPY services ./services
RUN python -m venv /opt/interpol-mesh \
    && /opt/interpol-mesh/bin/pip install --no-cache-dir .

FROM python:3.11-slim-bookworm
LABEL org.opencontainers.image.title="interpol-mesh" \
      org.opencontainers.image.description="One interpol-mesh office per container, chosen by OFFICE_ID" \
      org.opencontainers.image.licenses="Apache-2.0"
# A fixed, unprivileged uid/gid so that Kubernetes' runAsUser/fsGroup (deploy/k8s) match the image.
RUN groupadd --system --gid 10001 mesh \
    && useradd --system --uid 10001 --gid mesh --home-dir /var/lib/interpol-mesh --no-create-home mesh \
    && mkdir -p /var/lib/interpol-mesh \
    && chown mesh:mesh /var/lib/interpol-mesh
COPY --from=build /opt/interpol-mesh /opt/interpol-mesh
ENV PATH=/opt/interpol-mesh/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/var/lib/interpol-mesh
USER 10001:10001
WORKDIR /var/lib/interpol-mesh
EXPOSE 8000
# Kubernetes uses its own probes (/healthz, /readyz); this is for plain container runtimes.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]
# `serve` with no office runs the one named by OFFICE_ID on PORT; a missing or unknown OFFICE_ID is one
# clear error line and exit code 2. NATS_URL, DATABASE_URL, NATS_TLS_CA etc. come from the environment.
ENTRYPOINT ["interpol-mesh"]
CMD ["serve"]
