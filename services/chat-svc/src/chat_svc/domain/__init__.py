"""Pure rules of chat sessions: no I/O, no framework."""
