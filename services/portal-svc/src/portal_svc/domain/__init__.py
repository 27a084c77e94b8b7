"""Pure rules of portal-svc: no I/O here."""
