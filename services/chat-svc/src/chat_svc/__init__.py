"""chat-svc: chat sessions between customer and technician, transcripts."""
