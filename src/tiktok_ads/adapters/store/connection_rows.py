"""Store verbs for connections (pixels and their tokens) and their shared quota."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from tiktok_ads.adapters.store.base import StoreBase, among
from tiktok_ads.adapters.store.schema import connections
from tiktok_ads.domain import ratelimit
from tiktok_ads.domain.connections import ConnectionRow
from tiktok_ads.domain.ratelimit import QuotaState, Reservation

_CONNECTION_COLUMNS = [connections.c[name] for name in ConnectionRow.__dataclass_fields__]


class ConnectionRows(StoreBase):
    async def upsert_connection(
        self,
        *,
        pixel_id: str,
        access_token_enc: bytes,
        advertiser_id: str | None,
        test_mode: bool,
        test_event_code: str | None,
        is_default: bool,
        now: float,
        configured_from: str = "api",
        marketing_access_token_enc: bytes | None = None,
    ) -> ConnectionRow:
        """Create or replace a connection; a new token makes it healthy again.

        A Marketing API token is only replaced when one is given.
        """

        def run(conn: Connection) -> ConnectionRow:
            values: dict[str, object] = {
                "configured_from": configured_from,
                "advertiser_id": advertiser_id,
                "access_token_enc": access_token_enc,
                "test_mode": test_mode,
                "test_event_code": test_event_code,
                "healthy": True,
                "health_code": None,
                "health_message": None,
                "updated_at": now,
            }
            if marketing_access_token_enc is not None:
                values["marketing_access_token_enc"] = marketing_access_token_enc
            if is_default:
                conn.execute(update(connections).values(is_default=False))
            stmt = self.insert(connections).values(
                pixel_id=pixel_id, created_at=now, is_default=is_default, **values
            )
            set_ = dict(values)
            if is_default:
                set_["is_default"] = True
            conn.execute(stmt.on_conflict_do_update(index_elements=["pixel_id"], set_=set_))
            row = conn.execute(
                select(*_CONNECTION_COLUMNS).where(connections.c.pixel_id == pixel_id)
            ).one()
            return ConnectionRow(**row._mapping)

        return await self._write_tx(run)

    async def get_connection(self, pixel_id: str | None) -> ConnectionRow | None:
        """The connection of a pixel, or the default one when `pixel_id` is None."""

        def read(conn: Connection) -> ConnectionRow | None:
            query = select(*_CONNECTION_COLUMNS)
            if pixel_id is None:
                query = query.where(connections.c.is_default.is_(True))
            else:
                query = query.where(connections.c.pixel_id == pixel_id)
            row = conn.execute(query.limit(1)).first()
            return ConnectionRow(**row._mapping) if row else None

        return await self._read_tx(read)

    async def list_connections(self, pixels: frozenset[str] | None = None) -> list[ConnectionRow]:
        """Every connection (of `pixels` only, when given), oldest first."""

        def read(conn: Connection) -> list[ConnectionRow]:
            query = among(select(*_CONNECTION_COLUMNS), connections.c.pixel_id, pixels)
            rows = conn.execute(query.order_by(connections.c.id)).all()
            return [ConnectionRow(**r._mapping) for r in rows]

        return await self._read_tx(read)

    async def update_connection_settings(
        self,
        pixel_id: str,
        *,
        advertiser_id: str | None,
        test_mode: bool,
        test_event_code: str | None,
        now: float,
    ) -> None:
        """Change what is not the token; health and queue stay as they are."""
        await self._update_connection(
            pixel_id,
            advertiser_id=advertiser_id,
            test_mode=test_mode,
            test_event_code=test_event_code,
            updated_at=now,
        )

    async def set_health(
        self, pixel_id: str, *, healthy: bool, code: int | None, message: str | None, now: float
    ) -> None:
        await self._update_connection(
            pixel_id,
            healthy=healthy,
            health_code=code,
            health_message=message,
            health_checked_at=now,
            updated_at=now,
        )

    async def mark_sent(self, pixel_id: str, now: float) -> None:
        """TikTok accepted a batch: the connection works, whatever it was before."""
        await self._update_connection(
            pixel_id,
            last_event_sent_at=now,
            healthy=True,
            health_code=None,
            health_message=None,
            health_checked_at=now,
        )

    async def _update_connection(self, pixel_id: str, **values: object) -> None:
        def run(conn: Connection) -> None:
            conn.execute(
                update(connections).where(connections.c.pixel_id == pixel_id).values(**values)
            )

        await self._write_tx(run)

    async def reserve_send(
        self, pixel_id: str, *, want: int, now: float, rps: float, daily_limit: int
    ) -> Reservation:
        """Book a request slot and quota for a pixel, shared by every worker through the row."""

        def run(conn: Connection) -> Reservation:
            state = self._locked_quota(conn, pixel_id)
            decision = ratelimit.reserve(
                state, want=want, now=now, rps=rps, daily_limit=daily_limit
            )
            self._write_quota(conn, pixel_id, decision.state)
            return decision

        return await self._write_tx(run)

    async def refund_quota(self, pixel_id: str, events: int, now: float) -> None:
        def run(conn: Connection) -> None:
            state = self._locked_quota(conn, pixel_id)
            self._write_quota(conn, pixel_id, ratelimit.refund(state, events, now))

        await self._write_tx(run)

    def _locked_quota(self, conn: Connection, pixel_id: str) -> QuotaState:
        """The pixel's pacing state, locked until the transaction ends (SQLite: BEGIN IMMEDIATE)."""
        query = select(
            connections.c.rate_next_slot_at, connections.c.quota_day, connections.c.quota_used
        ).where(connections.c.pixel_id == pixel_id)
        if self.is_postgres:
            query = query.with_for_update()
        slot, day, used = conn.execute(query).one()
        return QuotaState(slot, day, used)

    def _write_quota(self, conn: Connection, pixel_id: str, state: QuotaState) -> None:
        conn.execute(
            update(connections)
            .where(connections.c.pixel_id == pixel_id)
            .values(
                rate_next_slot_at=state.next_slot_at, quota_day=state.day, quota_used=state.used
            )
        )
