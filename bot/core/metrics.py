"""The bot's Prometheus metrics, in a registry of the Application's own (no global state).

Labels only ever hold names from code (command names, transports, report states, job
kinds), never a room, a person or anything someone typed. Values read from the database
(backlogs, reports by state) are gauge callbacks: async readers awaited by `refresh()` just
before each scrape, since a Prometheus collector itself cannot await.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

log = logging.getLogger(__name__)

# A scalar, or one value per label value.
Reading = float | Mapping[str, float]
Reader = Callable[[], Awaitable[Reading]]

# From enqueue to sent: an alert should take well under a second; retries take minutes.
DELIVERY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.commands = Counter(
            "vecinos_commands",
            "Commands handled, by canonical command name and outcome",
            ["command", "outcome"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "vecinos_outbox_deliveries",
            "Outbox deliveries (a message to one room) finished: sent, or given up",
            ["transport", "result"],
            registry=self.registry,
        )
        self.delivery_seconds = Histogram(
            "vecinos_outbox_delivery_seconds",
            "Time from enqueueing a delivery to its successful send",
            ["transport"],
            buckets=DELIVERY_BUCKETS,
            registry=self.registry,
        )
        self.send_failures = Counter(
            "vecinos_outbox_send_failures",
            "Failed outbox send attempts (each is retried with backoff)",
            ["transport"],
            registry=self.registry,
        )
        self.jobs = Counter(
            "vecinos_scheduler_jobs",
            "Scheduled jobs finished, by kind and outcome (ran, failed, missed)",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self._gauges: list[_CallbackGauge] = []

    def gauge_callback(
        self, name: str, documentation: str, read: Reader, *, label: str | None = None
    ) -> None:
        """A gauge whose value `read` returns at each scrape; with `label`, a mapping from
        label values to values."""
        gauge = _CallbackGauge(name, documentation, read, label)
        self.registry.register(gauge)  # raises on a name already taken
        self._gauges.append(gauge)

    def histogram(self, name: str, documentation: str, buckets: Sequence[float]) -> Histogram:
        """A histogram a plugin observes into; its labels must never identify anyone."""
        return Histogram(name, documentation, buckets=buckets, registry=self.registry)

    async def refresh(self) -> None:
        await asyncio.gather(*(gauge.refresh() for gauge in self._gauges))

    def render(self) -> bytes:
        """The text exposition format; call `refresh()` first."""
        return generate_latest(self.registry)


class _CallbackGauge:
    """A collector holding the last value its reader returned."""

    def __init__(self, name: str, documentation: str, read: Reader, label: str | None) -> None:
        self._name = name
        self._documentation = documentation
        self._read = read
        self._label = label
        self._reading: Reading | None = None

    async def refresh(self) -> None:
        try:
            reading = await self._read()
            if isinstance(reading, Mapping) != (self._label is not None):
                raise TypeError("a labelled gauge reads a mapping, an unlabelled one a number")
            self._reading = reading
        except Exception:
            # A failing reader drops its own gauge, not the whole scrape.
            log.exception("reading the metric %s failed", self._name)
            self._reading = None

    def _family(self) -> GaugeMetricFamily:
        labels = [self._label] if self._label is not None else None
        return GaugeMetricFamily(self._name, self._documentation, labels=labels)

    def describe(self) -> Iterable[Metric]:
        return [self._family()]

    def collect(self) -> Iterable[Metric]:
        family = self._family()
        reading = self._reading
        if isinstance(reading, Mapping):
            for value_label, value in sorted(reading.items()):
                family.add_metric([value_label], value)
        elif reading is not None:
            family.add_metric([], reading)
        return [family]
