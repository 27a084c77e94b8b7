"""Close codes of a chat socket, and what they tell the client."""

CLOSE_NORMAL = 1000
"""The session ended (or was already over when the client joined)."""
CLOSE_POLICY = 1008
"""Refused or pushed out by a rule (wrong token, transferred session, a limit)."""
CLOSE_TRY_AGAIN = 1013
"""The client could not keep up with the frames sent to it; reconnecting and resuming helps."""
CLOSE_ACCESS_REVOKED = 4403
"""The technician lost access to the session's company (or was removed): do not reconnect."""

ACCESS_REVOKED = "access revoked"
