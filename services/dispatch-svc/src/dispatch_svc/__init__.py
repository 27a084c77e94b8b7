"""dispatch-svc: routing for the Web, Phone and Queue modes, connection codes, queue state."""
