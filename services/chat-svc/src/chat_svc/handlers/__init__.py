"""Use cases of chat-svc: session lifecycle, live chat, reading transcripts."""
