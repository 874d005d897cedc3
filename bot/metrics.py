"""What an operator watches, as Prometheus metrics: `[ops] listen` serves them at /metrics (bot.ops).

One registry of the bot's own (no process or platform collectors: a scrape shows briefbot alone). Counters
only ever grow; a test or a dashboard reads their differences.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry()

BRIEFINGS = Counter(
    "briefbot_briefings",
    "Briefings asked for, by outcome: ok or the error code",
    ["outcome"],
    registry=REGISTRY,
)
BRIEFING_SECONDS = Histogram(
    "briefbot_briefing_seconds",
    "From asking to the briefing or its error, fetching included",
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60),
    registry=REGISTRY,
)
BRIEFINGS_IN_FLIGHT = Gauge(
    "briefbot_briefings_in_flight", "Briefings asked for and not answered yet (fetching, queued, working)",
    registry=REGISTRY,
)  # fmt: skip
FEED_POLLS = Counter(
    "briefbot_feed_polls", "Feed polls, by result: ok or the error code", ["result"], registry=REGISTRY
)
ALERT_DELIVERIES = Counter(
    "briefbot_alert_deliveries",
    "Topic alerts handed to a platform, by outcome: delivered, retry (kept queued) or refused (for good)",
    ["platform", "outcome"],
    registry=REGISTRY,
)
# The queue is the store's, shared by every replica: bot.ops reads both from it on each scrape.
ALERT_QUEUE_DEPTH = Gauge(
    "briefbot_alert_queue_depth",
    "Topic alerts queued and not delivered yet, by any replica sharing the store (parked ones excluded)",
    registry=REGISTRY,
)  # fmt: skip
ALERT_QUEUE_AGE = Gauge(
    "briefbot_alert_queue_oldest_seconds", "Age of the oldest topic alert still queued (0 when none)",
    registry=REGISTRY,
)  # fmt: skip
