"""Configuration of chat-svc, from the environment."""

from typing import ClassVar

from pydantic import Field

from servicekit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: ClassVar[str] = "chat-svc"
    default_port: ClassVar[int] = 8104

    customer_abandon_seconds: float = Field(
        default=300.0,
        gt=0,
        description="A customer with no open socket for this long has abandoned the session.",
    )
    abandon_check_seconds: float = Field(
        default=5.0, gt=0, description="How often sessions are checked for abandonment."
    )
    max_message_chars: int = Field(default=2000, ge=1, le=100_000, description="Longest chat message, in characters.")
    message_rate_per_second: float = Field(
        default=5.0, gt=0, description="Sustained messages per second allowed on one socket."
    )
    message_burst: int = Field(
        default=10, ge=1, description="Messages one socket may send at once before the rate applies."
    )
    max_sockets_per_token: int = Field(default=3, ge=1, description="Open chat sockets allowed for one access token.")
    socket_release_seconds: float = Field(
        default=1.0,
        ge=0,
        description=(
            "How often the places of closed chat sockets are given back, in one batch; until then "
            "another replica may refuse a socket of that token a moment early. 0: at once."
        ),
    )
    socket_send_queue: int = Field(
        default=1000,
        ge=10,
        description="Frames waiting for a slow client before its socket is closed.",
    )
    max_frame_bytes: int = Field(default=64_000, ge=1024, description="Largest client frame accepted on a chat socket.")
    message_bucket_size: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description=(
            "Messages kept together in one stored bucket document (lowered automatically so a "
            "bucket of the longest messages stays far below MongoDB's 16 MB document limit)."
        ),
    )
    archive_after_seconds: float = Field(
        default=60.0,
        gt=0,
        description="An ended session moves (with its messages) from the live collections to the history this long after it ended.",
    )
    archive_check_seconds: float = Field(
        default=30.0, gt=0, description="How often ended sessions are archived (in one batch)."
    )
    history_retention_days: float = Field(
        default=365.0, gt=0, description="Archived sessions and their messages are deleted this long after they ended."
    )
    cancelled_marker_days: float = Field(
        default=7.0,
        gt=0,
        description="A request cancelled before its assignment is remembered this long (a later assignment opens nothing).",
    )
    replica_lease_seconds: float = Field(
        default=15.0,
        gt=0,
        description=(
            "Lease of a replica, renewed every third of it: sockets of a replica that stopped "
            "renewing stop counting (socket limits, customer presence) once it expires."
        ),
    )
    access_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description=(
            "How long a replica reuses a technician record it read; changes are pushed to every "
            "replica at once, this only bounds the delay if such a push is lost."
        ),
    )
