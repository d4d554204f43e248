"""The error hierarchy: one root, a subclass per stage.

Messages start with their subject (``workloads/web.yaml:12:`` or ``Deployment/web/nginx:``)
so the CLI can print them as they are, without a traceback.
"""

from __future__ import annotations


class KgitError(Exception):
    """Root of every error kgit reports to a user; the CLI prints it and exits 1."""


class ConfigError(KgitError):
    """kgit.yaml or command-line options are invalid."""


class SourceError(KgitError):
    """Git could not give the commit or tree asked for."""


class MissingPathError(SourceError):
    """A requested path does not exist in the commit or work tree."""


class ManifestError(KgitError):
    """A manifest is invalid; the message names file and line."""


class ClusterError(KgitError):
    """The API server refused or failed a request."""


class StateError(KgitError):
    """The recorded state could not be read or written."""


class LockError(KgitError):
    """The stack's lock is held by someone else, or could not be taken."""


class PlanError(KgitError):
    """A plan cannot be computed safely (e.g. an empty desired set would prune all)."""


class PlanFileError(KgitError):
    """A stored plan file is unreadable, tampered with or of another format version."""


class StalePlanError(KgitError):
    """A stored plan no longer matches the state, the cluster or Git."""


class ApplyError(KgitError):
    """One or more objects failed to apply."""


class WatchError(KgitError):
    """A watcher could not be reached or did not answer (``kgit sync``)."""


class RenderError(KgitError):
    """A Kustomize directory, a Helm chart or a generator could not be rendered, or the
    tool to render it is missing."""


class DecryptionError(ManifestError):
    """A SOPS-encrypted file could not be decrypted, or may not be; names the file and its
    recipients, never its content."""
