"""Use cases of portal-svc."""
