"""Use cases of dispatch-svc: routing, technician changes, acceptance, codes, sweeping."""
