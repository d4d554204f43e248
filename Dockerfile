# The image `kgit install` runs (kgit watch inside a cluster). Not built in CI:
#   docker build -t ghcr.io/kgit-dev/kgit:$(python -c 'import kgit; print(kgit.__version__)') .
FROM python:3.11-slim-bookworm

# git reads and fetches the sources; ssh and ssh-keygen serve SSH URLs and kgit identity.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client \
 && rm -rf /var/lib/apt/lists/*

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
