"""What the use cases need of the live-socket fan-out (implemented by `adapters.hub.Hub`:
sockets held by each replica, frames fanned out to every replica through RabbitMQ)."""

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from chat_svc.adapters.hub import Connection
from chat_svc.domain.model import Author


class LiveSockets(Protocol):
    async def reserve_socket(self, key: str) -> None:
        """Count a socket of a token across replicas, or refuse it (`TooManySockets`)."""
        ...

    async def release_socket(self, key: str) -> None: ...

    def ordered(self, session_id: str) -> AbstractAsyncContextManager[None]:
        """Serialises joining and delivery of one session's frames on this replica."""
        ...

    def add(self, connection: Connection) -> None: ...

    def remove(self, connection: Connection) -> None: ...

    def forget(self, session_id: str) -> None: ...

    def connections(self, session_id: str) -> Iterator[Connection]: ...

    def count(self, session_id: str, author: Author) -> int: ...

    async def publish(
        self,
        session_id: str,
        frames: Sequence[dict[str, Any]] = (),
        *,
        skip: Connection | None = None,
        close: tuple[int, str] | None = None,
        close_author: Author | None = None,
        close_person: str | None = None,
    ) -> None:
        """Frames (then a close, of the sockets of `close_author` / `close_person` if given) for
        every socket of the session, whichever replica holds it."""
        ...

    async def announce_access(self, record: dict[str, Any]) -> None:
        """A technician's access changed: every replica re-checks their sockets."""
        ...

    def close_technician(self, technician_id: str, keep: Callable[[str, str], bool], code: int, reason: str) -> int: ...
