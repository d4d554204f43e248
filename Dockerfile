# The image `kgit install` runs (kgit watch inside a cluster). Not built in CI:
#   docker build -t ghcr.io/kgit-dev/kgit:$(python -c 'import kgit; print(kgit.__version__)') .

# kustomize and helm, so the watcher renders Kustomize directories and Helm releases, and
# sops, so it decrypts SOPS-encrypted manifests: the versions scripts/controlplane builds
# for the tests (tests/unit/test_dockerfile.py checks they agree), from the same wrapper
# modules under hack/.
FROM golang:1.26-bookworm AS tools
ARG KUSTOMIZE_VERSION=v5.8.2
ARG HELM_VERSION=v3.22.0
ARG SOPS_VERSION=v3.13.3
ENV CGO_ENABLED=0 GOFLAGS=-mod=mod
COPY hack/kustomize /src/kustomize
COPY hack/helm /src/helm
COPY hack/sops /src/sops
RUN cd /src/kustomize && go build -trimpath -o /out/kustomize \
      -ldflags "-s -w -X sigs.k8s.io/kustomize/api/provenance.version=kustomize/${KUSTOMIZE_VERSION}" \
      sigs.k8s.io/kustomize/kustomize/v5 \
 && cd /src/helm && go build -trimpath -o /out/helm \
      -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}" \
      helm.sh/helm/v3/cmd/helm \
 && cd /src/sops && go build -trimpath -o /out/sops -ldflags "-s -w" \
      github.com/getsops/sops/v3/cmd/sops

FROM python:3.11-slim-bookworm

# git reads and fetches the sources; ssh and ssh-keygen serve SSH URLs and kgit identity;
# age-keygen makes kgit sops-key's key.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client age \
 && rm -rf /var/lib/apt/lists/*

COPY --from=tools /out/kustomize /out/helm /out/sops /usr/local/bin/
COPY pyproject.toml README.md /src/
COPY kgit /src/kgit
RUN pip install --no-cache-dir /src && rm -rf /src

# The Deployment runs as this user with a read-only root: HOME, the clone cache and the
# plans folder are emptyDir volumes (see kgit install).
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /tmp kgit
USER 10001:10001
ENV HOME=/tmp XDG_CACHE_HOME=/var/cache/kgit
WORKDIR /var/lib/kgit
ENTRYPOINT ["kgit"]
CMD ["--help"]
