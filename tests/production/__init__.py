"""Production: deployment files, logs, metrics, worker health."""
