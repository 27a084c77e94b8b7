"""Reading a service's Prometheus metrics as Prometheus would: scrape `/metrics`, parse the text."""

from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

Key = tuple[str, tuple[tuple[str, str], ...]]


def _key(name: str, labels: Mapping[str, str]) -> Key:
    return name, tuple(sorted(labels.items()))


@dataclass(frozen=True)
class Samples:
    """Every sample of one exposition: `value(name, **labels)` (0 when absent, as a counter
    that never moved), `since(earlier, name, **labels)` for how much it moved."""

    values: Mapping[Key, float]

    @classmethod
    def parse(cls, text: str) -> "Samples":
        return cls(
            {
                _key(sample.name, sample.labels): sample.value
                for family in text_string_to_metric_families(text)
                for sample in family.samples
            }
        )

    def value(self, name: str, **labels: str) -> float:
        return self.values.get(_key(name, labels), 0.0)

    def since(self, earlier: "Samples", name: str, **labels: str) -> float:
        return self.value(name, **labels) - earlier.value(name, **labels)

    def matching(self, name: str, **labels: str) -> dict[tuple[tuple[str, str], ...], float]:
        """Samples of `name` whose labels include `labels`, by their full label set."""
        wanted = set(labels.items())
        return {key[1]: v for key, v in self.values.items() if key[0] == name and wanted <= set(key[1])}

    def names(self) -> set[str]:
        return {name for name, _ in self.values}


async def scrape(base_url: str) -> Samples:
    """One scrape of a process's `/metrics` (its own address, never the gateway's)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        response = await http.get("/metrics")
    response.raise_for_status()
    return Samples.parse(response.text)
