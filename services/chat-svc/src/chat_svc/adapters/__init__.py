"""I/O of chat-svc: MongoDB repositories and the in-memory socket hub."""
