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
    socket_send_queue: int = Field(
        default=1000,
        ge=10,
        description="Frames waiting for a slow client before its socket is closed.",
    )
    max_frame_bytes: int = Field(default=64_000, ge=1024, description="Largest client frame accepted on a chat socket.")
