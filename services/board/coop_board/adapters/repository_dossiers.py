"""SQL repositories of the dossiers family: a dossier is read whole (its versions, proposals,
amendments and send backs) and saved by writing what changed since it was read. Versions and
proposals' submitted columns are inserted once and never updated."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, tuple_, update

from coop_board.adapters.orm_dossiers import (
    dossier_amendments,
    dossier_documents,
    dossier_proposals,
    dossier_send_backs,
    dossier_versions,
    dossiers,
)
from coop_board.domain.dossiers import (
    SENT_BACK,
    Amendment,
    Dossier,
    DossierVersion,
    Proposal,
    ProposalState,
    SendBack,
)
from coop_board.domain.dossiers_documents import Document
from coop_board.domain.texts import LocalizedText
from coop_domain.clock import as_utc


def _lt(value: dict[str, str] | None) -> LocalizedText:
    return LocalizedText.of(value or {})


def _utc(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


class SqlDossierRepository:
    def __init__(self, session: Any) -> None:
        self.session = session
        self._seen: dict[str, Dossier] = {}  # as read or last saved in this unit, by dossier id

    # --- reads ----------------------------------------------------------------------------------

    def get(self, tenant: str, dossier_id: str, *, lock: bool = False) -> Dossier | None:
        query = select(dossiers).where(dossiers.c.tenant == tenant, dossiers.c.dossier_id == dossier_id)
        if lock:
            query = query.with_for_update()
        rows = self.session.execute(query).all()
        found = self._assemble(rows)
        return found[0] if found else None

    def list(self, tenant: str, status: str | None, after: tuple[datetime, str] | None, limit: int) -> list[Dossier]:
        d = dossiers.c
        query = select(dossiers).where(d.tenant == tenant)
        if status is not None:
            query = query.where(d.status == status)
        if after is not None:
            query = query.where(tuple_(d.created_at, d.dossier_id) > tuple_(*after))
        rows = self.session.execute(query.order_by(d.created_at, d.dossier_id).limit(limit)).all()
        return self._assemble(rows)

    def _assemble(self, rows: list[Any]) -> list[Dossier]:
        if not rows:
            return []
        # Each statement may see a later commit than the one before (READ COMMITTED, or a read
        # outside a transaction): versions are read up to the dossier row's latest_version, which
        # was committed with them, so a version is never seen without its proposals.
        ids = [r.dossier_id for r in rows]
        latest = {r.dossier_id: r.latest_version for r in rows}
        v, p, a, s = dossier_versions.c, dossier_proposals.c, dossier_amendments.c, dossier_send_backs.c
        proposals: dict[tuple[str, int], list[Any]] = {}
        for r in self.session.execute(select(dossier_proposals).where(p.dossier_id.in_(ids))
                                      .order_by(p.dossier_id, p.version, p.position)):
            proposals.setdefault((r.dossier_id, r.version), []).append(r)
        versions: dict[str, list[Any]] = {}
        for r in self.session.execute(select(dossier_versions).where(v.dossier_id.in_(ids))
                                      .order_by(v.dossier_id, v.version)):
            if r.version <= latest[r.dossier_id]:
                versions.setdefault(r.dossier_id, []).append(r)
        amendments: dict[str, list[Any]] = {}
        for r in self.session.execute(select(dossier_amendments).where(a.dossier_id.in_(ids))
                                      .order_by(a.dossier_id, a.seq)):
            amendments.setdefault(r.dossier_id, []).append(r)
        send_backs: dict[str, list[Any]] = {}
        for r in self.session.execute(select(dossier_send_backs).where(s.dossier_id.in_(ids))
                                      .order_by(s.dossier_id, s.version)):
            send_backs.setdefault(r.dossier_id, []).append(r)
        out = []
        for row in rows:
            dossier = Dossier(row.dossier_id, row.tenant, _lt(row.title), row.created_by, as_utc(row.created_at),
                              row.status, updated_at=_utc(row.updated_at))
            for vr in versions.get(row.dossier_id, []):
                props = proposals.get((row.dossier_id, vr.version), [])
                dossier.versions.append(DossierVersion(
                    vr.version, vr.submitted_by, as_utc(vr.submitted_at), _lt(vr.change_note),
                    tuple(Proposal(pr.proposal_id, pr.version, pr.position, _lt(pr.title), _lt(pr.text),
                                   pr.recommended, _lt(pr.rationale), pr.revises) for pr in props),
                    tuple(vr.document_ids)))
                for pr in props:
                    dossier.states[pr.proposal_id] = ProposalState(pr.status, _lt(pr.text_to_vote), pr.decision_id,
                                                                   _utc(pr.decided_at))
            for ar in amendments.get(row.dossier_id, []):
                if ar.proposal_id not in dossier.states:  # of a version committed after the row was read
                    continue
                dossier.amendments[ar.amendment_id] = Amendment(
                    ar.amendment_id, ar.version, ar.proposal_id, ar.parent_id, ar.level, ar.author_id, _lt(ar.text),
                    _lt(ar.diff), as_utc(ar.proposed_at), _lt(ar.proposed_text), ar.status, ar.decision_id,
                    _utc(ar.decided_at))
            for sr in send_backs.get(row.dossier_id, []):
                if sr.version > dossier.latest:
                    continue
                dossier.send_backs.append(SendBack(sr.version, _lt(sr.reasons), sr.due_on, sr.meeting_id, sr.item_id,
                                                   sr.decision_id, as_utc(sr.sent_back_at)))
            self._seen[dossier.dossier_id] = copy.deepcopy(dossier)
            out.append(dossier)
        return out

    def dossier_of(self, tenant: str, subject_id: str) -> str | None:
        for table, key in ((dossier_proposals, dossier_proposals.c.proposal_id),
                           (dossier_amendments, dossier_amendments.c.amendment_id)):
            found = self.session.execute(select(table.c.dossier_id).where(key == subject_id,
                                                                          table.c.tenant == tenant)).scalar()
            if found is not None:
                return found
        return None

    # --- writes ---------------------------------------------------------------------------------

    def add(self, dossier: Dossier) -> None:
        self.session.execute(insert(dossiers).values(
            dossier_id=dossier.dossier_id, tenant=dossier.tenant, title=dossier.title.as_dict(),
            status=dossier.status, latest_version=dossier.latest, created_by=dossier.created_by,
            created_at=dossier.created_at, updated_at=dossier.updated_at or dossier.created_at))
        self._seen[dossier.dossier_id] = Dossier(dossier.dossier_id, dossier.tenant, dossier.title,
                                                 dossier.created_by, dossier.created_at, dossier.status)
        self.save(dossier)

    def save(self, dossier: Dossier) -> None:
        before = self._seen[dossier.dossier_id]
        if dossier.versions[:len(before.versions)] != before.versions:
            raise RuntimeError(f"a submitted version of dossier {dossier.dossier_id} was changed")
        self.session.execute(update(dossiers).where(dossiers.c.dossier_id == dossier.dossier_id).values(
            status=dossier.status, latest_version=dossier.latest,
            updated_at=dossier.updated_at or dossier.created_at))
        new_versions = dossier.versions[len(before.versions):]
        if new_versions:
            self.session.execute(insert(dossier_versions), [dict(
                dossier_id=dossier.dossier_id, version=v.number, tenant=dossier.tenant, submitted_by=v.submitted_by,
                submitted_at=v.submitted_at, change_note=v.change_note.as_dict(), document_ids=list(v.document_ids))
                for v in new_versions])
            self.session.execute(insert(dossier_proposals), [self._proposal_row(dossier, p)
                                                             for v in new_versions for p in v.proposals])
        new_ids = {p.proposal_id for v in new_versions for p in v.proposals}
        for proposal_id, state in dossier.states.items():
            if proposal_id not in new_ids and before.states.get(proposal_id) != state:
                self.session.execute(update(dossier_proposals).where(
                    dossier_proposals.c.proposal_id == proposal_id).values(
                    status=state.status, text_to_vote=state.text_to_vote.as_dict(), decision_id=state.decision_id,
                    decided_at=state.decided_at))
        fresh = []
        for seq, (amendment_id, a) in enumerate(dossier.amendments.items(), start=1):
            old = before.amendments.get(amendment_id)
            if old is None:
                fresh.append(self._amendment_row(dossier, a, seq))
            elif old != a:
                self.session.execute(update(dossier_amendments).where(
                    dossier_amendments.c.amendment_id == amendment_id).values(
                    text=a.text.as_dict(), diff=a.diff.as_dict(), status=a.status, decision_id=a.decision_id,
                    decided_at=a.decided_at))
        if fresh:
            self.session.execute(insert(dossier_amendments), fresh)
        new_send_backs = dossier.send_backs[len(before.send_backs):]
        if new_send_backs:
            self.session.execute(insert(dossier_send_backs), [dict(
                dossier_id=dossier.dossier_id, version=s.version, tenant=dossier.tenant, reasons=s.reasons.as_dict(),
                due_on=s.due_on, meeting_id=s.meeting_id, item_id=s.item_id, decision_id=s.decision_id,
                sent_back_at=s.at) for s in new_send_backs])
        self._seen[dossier.dossier_id] = copy.deepcopy(dossier)

    @staticmethod
    def _proposal_row(dossier: Dossier, p: Proposal) -> dict[str, Any]:
        state = dossier.states[p.proposal_id]
        return dict(proposal_id=p.proposal_id, dossier_id=dossier.dossier_id, version=p.version,
                    tenant=dossier.tenant, position=p.position, title=p.title.as_dict(), text=p.text.as_dict(),
                    recommended=p.recommended, rationale=p.rationale.as_dict(), revises=p.revises,
                    status=state.status, text_to_vote=state.text_to_vote.as_dict(), decision_id=state.decision_id,
                    decided_at=state.decided_at)

    @staticmethod
    def _amendment_row(dossier: Dossier, a: Amendment, seq: int) -> dict[str, Any]:
        return dict(amendment_id=a.amendment_id, dossier_id=dossier.dossier_id, seq=seq, tenant=dossier.tenant,
                    version=a.version, proposal_id=a.proposal_id, parent_id=a.parent_id, level=a.level,
                    author_id=a.author_id, proposed_text=a.proposed_text.as_dict(), text=a.text.as_dict(),
                    diff=a.diff.as_dict(), proposed_at=a.proposed_at, status=a.status, decision_id=a.decision_id,
                    decided_at=a.decided_at)

    def gauges(self, today: date) -> tuple[dict[str, int], int]:
        d, s = dossiers.c, dossier_send_backs.c
        per_status = {status: n for status, n in self.session.execute(
            select(d.status, func.count()).group_by(d.status))}
        overdue = self.session.execute(
            select(func.count()).select_from(dossiers.join(dossier_send_backs, and_(
                s.dossier_id == d.dossier_id, s.version == d.latest_version)))
            .where(d.status == SENT_BACK, s.due_on < today)).scalar_one()
        return per_status, overdue

    # --- documents ------------------------------------------------------------------------------

    def add_document(self, document: Document) -> None:
        self.session.execute(insert(dossier_documents).values(
            document_id=document.document_id, dossier_id=document.dossier_id, tenant=document.tenant,
            filename=document.filename, media_type=document.media_type, size_bytes=document.size,
            sha256=document.sha256, uploaded_by=document.uploaded_by, uploaded_at=document.uploaded_at))

    def document(self, tenant: str, document_id: str) -> Document | None:
        found = self.documents(tenant, [document_id])
        return found[0] if found else None

    def documents(self, tenant: str, document_ids: Iterable[str]) -> list[Document]:
        ids = list(document_ids)
        if not ids:
            return []
        c = dossier_documents.c
        return [Document(r.document_id, r.tenant, r.dossier_id, r.filename, r.media_type, r.size_bytes, r.sha256,
                         r.uploaded_by, as_utc(r.uploaded_at))
                for r in self.session.execute(select(dossier_documents).where(c.tenant == tenant,
                                                                              c.document_id.in_(ids)))]
