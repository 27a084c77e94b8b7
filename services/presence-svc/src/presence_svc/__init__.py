"""presence-svc: technician availability and connection, notification preferences, alerts."""
