"""GitOps mode: remote sources for plan and apply, the watch loop, sync, install."""
