"""The background service: daemon, leases, health and retention."""
