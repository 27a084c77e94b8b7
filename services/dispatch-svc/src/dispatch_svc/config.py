"""Configuration of dispatch-svc, from the environment."""

from typing import ClassVar

from pydantic import Field

from servicekit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: ClassVar[str] = "dispatch-svc"
    default_port: ClassVar[int] = 8103

    offer_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Web mode: an offer nobody accepted within this is made again."
    )
    accept_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Queue mode: an assignment not acknowledged within this goes back to the queue.",
    )
    transfer_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A transfer offer the colleague has not accepted within this lapses; the chat stays put.",
    )
    max_technicians_per_chat: int = Field(
        default=3,
        ge=1,
        le=10,
        description="Technicians one chat can have, its own technician included: colleagues "
        "invited to join it count one each (1 turns invitations off).",
    )
    code_ttl_seconds: float = Field(default=1200.0, gt=0, description="Lifetime of a connection code.")
    max_live_codes: int = Field(default=8, ge=1, le=100, description="Live connection codes per technician.")
    sweep_interval_seconds: float = Field(
        default=5.0, gt=0, description="How often the sweeper re-drives what an event may have missed."
    )
    stuck_after_seconds: float = Field(
        default=10.0,
        gt=0,
        description="A half-done step (a slot claimed, a request still new) older than this is "
        "presumed abandoned by a crashed worker and repaired by the sweeper.",
    )
    tombstone_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="A cancellation that overtook its submission (separate queues) waits this long "
        "among the live requests for the submission, which then stops there; a submission later "
        "still would be served.",
    )
    consumer_prefetch: int = Field(
        default=1,
        ge=1,
        le=1000,
        description="Unacknowledged messages per consumed queue and worker. Handlers of one "
        "worker share one database: on the embedded MongoDB-wire server (one write lock) 1 is "
        "fastest; with a real MongoDB a few more raise throughput. Scale out with workers.",
    )
    default_capacity: int = Field(
        default=1, ge=1, le=50, description="Capacity of a technician dispatch has not heard of yet."
    )
    code_failures_per_window: int = Field(
        default=20, ge=1, description="Wrong connection codes tolerated per company and window."
    )
    code_failure_window_seconds: float = Field(default=60.0, gt=0, description="Window of the wrong-code rate limit.")
    partitions: int = Field(
        # Off by default: partitioning did not add capacity on the embedded store, and one
        # fault-suite run with it lost requests (issue 13's note); the competing consumers are
        # the verified path.
        default=0,
        ge=0,
        le=64,
        description="EXPERIMENTAL. Company partitions: the events about one company go, through a "
        "consistent-hash exchange (broker plugin rabbitmq_consistent_hash_exchange), to one of this "
        "many queues, each served by one worker at a time. 0 (the default) turns partitioning off: "
        "every worker competes for every event, every claim a conditional write.",
    )
    member_heartbeat_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often a worker tells the others it is alive; partitions are shared "
        "out among the workers heard from within three heartbeats.",
    )
