"""Benchmarks of kgit against kubectl on one local control plane, in one run (``bench/run``)."""
