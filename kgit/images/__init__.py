"""Image automation: tag policies in annotations, a registry client, YAML rewrites, commits."""
