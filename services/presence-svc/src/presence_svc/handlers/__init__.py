"""Use cases of presence-svc."""
