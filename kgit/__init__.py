"""kgit: Terraform's plan/apply discipline for GitOps on Kubernetes."""

__version__ = "0.1.0"
