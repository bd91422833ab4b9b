"""Clients: verified companies and members' own unverified records."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from coop_billing.adapters import orm
from coop_billing.adapters.repositories import SqlRepository
from coop_billing.domain.vat import Client
from coop_domain.clock import utcnow


class SqlClientRepository(SqlRepository):
    def _clients(self) -> Any:
        """Client rows as the service reads them: `vat_number` is the verified number, or the
        number a member gave their unverified client."""
        c = orm.clients.c
        return select(c.client_id, c.name, c.country, c.address,
                      func.coalesce(c.vat_number, c.claimed_vat_number).label("vat_number"), c.created_at,
                      c.owner_member_id, c.verified_at, c.verified_by)

    def verified_client_by_vat(self, vat_number: str) -> Any:
        """The verified client with this VAT number (the real company), or None."""
        return self.session.execute(self._clients().where(orm.clients.c.vat_number == vat_number)).first()

    def own_client_by_vat(self, member_id: str, vat_number: str) -> Any:
        """A member's own unverified client with this VAT number, or None."""
        c = orm.clients.c
        return self.session.execute(self._clients().where(
            c.owner_member_id == member_id, c.claimed_vat_number == vat_number, c.verified_at.is_(None))).first()

    def insert_client_if_absent(self, client_id: str, client: Client, *, owner_member_id: str | None,
                                verified_by: str | None) -> bool:
        """A member's unverified client (owner set), or a verified one (verified_by set). True when
        inserted; False when the same VAT number appeared meanwhile (among the verified clients,
        or among that member's unverified ones)."""
        c = orm.clients.c
        now = utcnow()
        verified = verified_by is not None
        stmt = self.dialect.insert(orm.clients).values(
            client_id=client_id, name=client.name, country=client.country, address=client.address,
            vat_number=client.vat_number if verified else None,
            claimed_vat_number=None if verified else client.vat_number, created_at=now,
            owner_member_id=owner_member_id, verified_at=now if verified else None, verified_by=verified_by)
        if client.vat_number and verified:
            stmt = stmt.on_conflict_do_nothing(index_elements=["vat_number"])
        elif client.vat_number:
            stmt = stmt.on_conflict_do_nothing(index_elements=["owner_member_id", "claimed_vat_number"],
                                               index_where=c.verified_at.is_(None))
        return self.session.execute(stmt).rowcount == 1

    def verify_client(self, client_id: str, actor: str) -> bool:
        """Mark a client verified, its VAT number becoming the verified one; False (nothing changed)
        when another verified client holds it (the unique key decides, so two verifications at
        once cannot both win)."""
        c = orm.clients.c
        try:
            with self.session.begin_nested():
                self.session.execute(update(orm.clients).where(c.client_id == client_id, c.verified_at.is_(None))
                                     .values(vat_number=c.claimed_vat_number, claimed_vat_number=None,
                                             verified_at=utcnow(), verified_by=actor[:100]))
        except IntegrityError:
            return False
        return True

    def client(self, client_id: str) -> Any:
        return self.session.execute(self._clients().where(orm.clients.c.client_id == client_id)).first()

    def clients(self, client_ids: Iterable[str]) -> dict[str, Any]:
        return {r.client_id: r for r in self.session.execute(
            self._clients().where(orm.clients.c.client_id.in_(set(client_ids))))}
