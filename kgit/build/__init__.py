"""Building the desired objects from a source: plain manifests loaded, Kustomize
directories and Helm charts rendered by their tools, Flux v1 generators run.

The stages, in order: :mod:`kgit.build.layout` classifies the source's paths (pure);
:func:`kgit.source.read.read_source` reads the files each needs from the commit; a
decrypt stage may change those files; :func:`kgit.build.stage.build_manifests` loads the
plain ones and renders the rest (:mod:`.kustomize`, :mod:`.helm`, :mod:`.generators`),
through the render cache (:mod:`.cache`).
"""
