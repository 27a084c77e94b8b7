"""I/O of presence-svc: MongoDB repositories, the live WebSocket registry, SMTP."""
