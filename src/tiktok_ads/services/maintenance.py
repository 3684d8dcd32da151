"""A delivery worker's housekeeping, as named periodic tasks beside its send loop."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tiktok_ads.domain.retry import GiveUp, RetryPolicy
from tiktok_ads.services.connections import ConnectionService
from tiktok_ads.services.periodic import PeriodicTask
from tiktok_ads.services.ports import DeliveryMetrics, Housekeeping
from tiktok_ads.services.verdicts import Verdicts

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MaintenanceConfig:
    lease_check_every_s: float = 5.0
    purge_every_s: float = 60.0
    gauges_every_s: float = 5.0
    retention_every_s: float = 10.0
    pii_retention_s: float = 72 * 3600.0
    attribution_window_s: float = 28 * 86400.0
    event_retention_s: float = 90 * 86400.0


class Maintenance:
    def __init__(
        self,
        *,
        store: Housekeeping,
        connections: ConnectionService,
        metrics: DeliveryMetrics,
        verdicts: Verdicts,
        policy: RetryPolicy,
        config: MaintenanceConfig,
    ) -> None:
        self._store = store
        self._connections = connections
        self._metrics = metrics
        self._verdicts = verdicts
        self._policy = policy
        self._config = config

    def tasks(self) -> list[PeriodicTask]:
        cfg = self._config
        return [
            PeriodicTask("release-expired-leases", cfg.lease_check_every_s, self.release_leases),
            PeriodicTask("purge-expired-data", cfg.purge_every_s, self.purge),
            PeriodicTask("delete-past-retention", cfg.retention_every_s, self.delete_old_rows),
            PeriodicTask("refresh-gauges", cfg.gauges_every_s, self.refresh_gauges),
        ]

    async def release_leases(self, now: float) -> int:
        """Claims of a worker that died go back to the queue, or fail past their deadline."""
        requeue: list[int] = []
        give_up: list[int] = []
        reason = ""
        for pk, deadline_at in await self._store.expired_leases(now):
            decision = self._policy.after_lost_claim(deadline_at, now)
            if isinstance(decision, GiveUp):
                give_up.append(pk)
                reason = decision.reason
            else:
                requeue.append(pk)
        if not requeue and not give_up:
            return 0
        changed = await self._store.release_leases(
            now, requeue=requeue, give_up=give_up, reason=reason
        )
        self._verdicts.announce(give_up)
        log.warning(
            "released %d expired claims (%d past TikTok's deduplication window, failed)",
            changed,
            len(give_up),
        )
        return changed

    async def purge(self, now: float) -> None:
        cfg = self._config
        await self._store.purge(now, now - cfg.pii_retention_s, now - cfg.attribution_window_s)

    async def delete_old_rows(self, now: float) -> int:
        """Settled events and delivery records past TIKTOK_ADS_EVENT_RETENTION_DAYS, in small
        batches (the totals of /stats stay in the counters)."""
        deleted = await self._store.purge_expired(now - self._config.event_retention_s)
        return sum(deleted.values())

    async def refresh_gauges(self, _now: float) -> None:
        connections = await self._connections.all()
        self._metrics.set_connection_gauges(
            {c.pixel_id: c.healthy for c in connections}, await self._store.queue_depth()
        )
