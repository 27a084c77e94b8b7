"""Pages of a list: which slice to read, and the JSON every paged listing answers with."""

from dataclasses import dataclass
from typing import Any

MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Page:
    page: int = 1
    """From 1."""
    per_page: int = 20

    @property
    def skip(self) -> int:
        return (self.page - 1) * self.per_page

    def result(self, items: list[Any], total: int) -> dict[str, Any]:
        pages = max(1, -(-total // self.per_page))
        return {"items": items, "total": total, "page": self.page, "per_page": self.per_page, "pages": pages}
