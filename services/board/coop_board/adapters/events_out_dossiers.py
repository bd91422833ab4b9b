"""The dossiers family's events on the board's translator (adapters/events_out.py):
dossier.submitted and dossier.sent_back (coop.board.v1 DossierSubmitted, DossierSentBack).
They carry ids, counts, titles and the board's reasons (none for a closed item); no names."""

from __future__ import annotations

from typing import Any

from coop.board.v1 import events_pb2 as ev
from coop_board.adapters.events_out import translate
from coop_board.adapters.messages_dossiers import text_to_pb
from coop_board.domain import dossiers_events as events
from coop_platform.pbtypes import to_date, to_timestamp


@translate.register
def _(e: events.DossierSubmitted) -> tuple[str, Any, str | None]:
    d, v = e.dossier, e.version
    answered = next((s for s in d.send_backs if s.version == v.number - 1), None)
    return "dossier.submitted", ev.DossierSubmitted(
        dossier_id=d.dossier_id, tenant=d.tenant, version=v.number, title=text_to_pb(d.title),
        proposal_count=len(v.proposals), recommended_count=sum(p.recommended for p in v.proposals),
        submitted_at=to_timestamp(v.submitted_at), proposal_ids=[p.proposal_id for p in v.proposals],
        recommended_proposal_ids=[p.proposal_id for p in v.proposals if p.recommended],
        document_count=len(v.document_ids), due_date=to_date(answered.due_on) if answered else None), d.dossier_id


@translate.register
def _(e: events.DossierSentBack) -> tuple[str, Any, str | None]:
    d, s = e.dossier, e.send_back
    return "dossier.sent_back", ev.DossierSentBack(
        dossier_id=d.dossier_id, tenant=d.tenant, version=s.version, meeting_id=s.meeting_id, item_id=s.item_id,
        reasons=None if e.closed else text_to_pb(s.reasons), due_date=to_date(s.due_on), decision_id=s.decision_id,
        sent_back_at=to_timestamp(s.at)), d.dossier_id
