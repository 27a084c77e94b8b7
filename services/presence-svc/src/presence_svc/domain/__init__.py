"""Pure rules of presence-svc: availability, preferences, alerts. No I/O here."""
