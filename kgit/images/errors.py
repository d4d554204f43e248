"""Errors of image automation, under kgit's one root."""

from __future__ import annotations

from kgit.errors import KgitError


class ImageError(KgitError):
    """An image automation request cannot be carried out (a workload, policy or file)."""


class RegistryError(ImageError):
    """A registry could not list an image's tags; the message starts with the image."""
