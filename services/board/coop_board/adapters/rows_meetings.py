"""The meetings family's aggregates as JSON documents (adapters/orm_meetings.py) and back."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from coop_board.domain.decisions import Action, Decision
from coop_board.domain.meetings import AgendaItem, Declaration, Meeting
from coop_board.domain.texts import LocalizedText
from coop_board.domain.votes import Vote
from coop_board.domain.voting import Quorum
from coop_domain.clock import as_utc


def _t(text: LocalizedText | None) -> dict[str, str] | None:
    return text.as_dict() if text is not None else None


def _lt(value: dict[str, str] | None) -> LocalizedText:
    return LocalizedText(**value) if value else LocalizedText()


def _dt(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _pdt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _d(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _pd(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _item(it: AgendaItem) -> dict[str, Any]:
    return {"id": it.item_id, "pos": it.position, "title": _t(it.title), "source": it.source, "kind": it.kind,
            "ref": it.ref, "vis": it.visibility, "consent": it.consent, "mode": it.vote_mode, "secret": it.secret,
            "majority": it.majority, "text": _t(it.text), "dv": it.dossier_version, "pulled": it.pulled_by,
            "decision": it.decision_id, "forced": it.forced, "due_by": _dt(it.due_by)}


def _p_item(d: dict[str, Any]) -> AgendaItem:
    return AgendaItem(d["id"], d["pos"], _lt(d["title"]), d["source"], d["kind"], d["ref"], d["vis"], d["consent"],
                      d["mode"], d["secret"], d["majority"], _lt(d["text"]), d["dv"], d["pulled"], d["decision"],
                      d.get("forced", False), _pdt(d.get("due_by")))


def _vote(v: Vote) -> dict[str, Any]:
    q = v.quorum
    return {"id": v.vote_id, "items": list(v.item_ids), "subject": v.subject, "sid": v.subject_id,
            "title": _t(v.subject_title), "majority": v.majority, "secret": v.secret, "options": list(v.options),
            "status": v.status, "opened": _dt(v.opened_at), "closed": _dt(v.closed_at), "counts": v.counts,
            "ballots": {} if v.secret else v.ballots, "voters": sorted(v.voters),
            "quorum": [q.sitting, q.eligible, q.eligible_present, q.required, q.met, list(q.recused)] if q else None,
            "outcome": v.outcome, "casting": v.casting_vote_used}


def _p_vote(d: dict[str, Any]) -> Vote:
    q = d["quorum"]
    return Vote(d["id"], tuple(d["items"]), d["subject"], d["sid"], _lt(d["title"]), d["majority"], d["secret"],
                tuple(d["options"]), d["status"], _pdt(d["opened"]), _pdt(d["closed"]), dict(d["counts"]),
                dict(d["ballots"]), set(d["voters"]),
                Quorum(q[0], q[1], q[2], q[3], q[4], tuple(q[5])) if q else None, d["outcome"], d["casting"])


def meeting_doc(m: Meeting) -> dict[str, Any]:
    return {"title": _t(m.title), "place": m.place, "link": m.video_link, "freezes_at": _dt(m.freezes_at),
            "revision": m.revision, "frozen": m.frozen, "created_at": _dt(m.created_at),
            "items": [_item(it) for it in m.items], "attendance": m.attendance, "proxies": m.proxies,
            "declarations": [[x.director_id, x.item_id, x.statement, _dt(x.at)] for x in m.declarations],
            "votes": [_vote(v) for v in m.votes], "sitting": list(m.sitting), "chair": m.chair_id,
            "secretary": m.secretary_id, "frozen_announced": m.frozen_announced,
            "extra": m.extra}


def meeting_of(row: Any) -> Meeting:
    d = row.doc
    return Meeting(row.meeting_id, row.tenant, _lt(d["title"]), as_utc(row.starts_at), d["place"], d["link"],
                   _pdt(d["freezes_at"]), row.status, d["revision"], row.agenda_version, d["frozen"],  # type: ignore[arg-type]
                   [_p_item(x) for x in d["items"]], dict(d["attendance"]), dict(d["proxies"]),
                   [Declaration(a, b, c, _pdt(e)) for a, b, c, e in d["declarations"]],  # type: ignore[arg-type]
                   [_p_vote(x) for x in d["votes"]], _pdt(d["created_at"]), tuple(d["sitting"]), d["chair"],
                   d["secretary"], d.get("frozen_announced", False), d.get("extra", False))


def action_row(a: Action) -> dict[str, Any]:
    return {"action_id": a.action_id, "tenant": a.tenant, "decision_id": a.decision_id, "meeting_id": a.meeting_id,
            "owner_id": a.owner_id, "due_on": a.due_on, "done_on": a.done_on, "closed": a.closed,
            "description": _t(a.description)}


def action_of(r: Any) -> Action:
    return Action(r.action_id, r.tenant, r.decision_id, r.meeting_id, _lt(r.description), r.owner_id, r.due_on,
                  r.done_on, r.closed)


def decision_doc(d: Decision) -> dict[str, Any]:
    return {"kind_of_item": d.item_kind, "kind": d.kind, "title": _t(d.title), "text": _t(d.adopted_text),
            "closed": d.closed, "vote": d.vote_id, "proposal": d.proposal_id, "dossier": d.dossier_id,
            "counts": d.counts, "ballots": d.ballots, "recused": list(d.recused), "effective": _d(d.effective_on),
            "reasons": _t(d.send_back_reasons), "due": _d(d.send_back_due_on)}


def decision_of(r: Any, actions: list[Action]) -> Decision:
    d = r.doc
    return Decision(r.decision_id, r.tenant, r.meeting_id, r.item_id, d["kind_of_item"], d["kind"], _lt(d["title"]),
                    _lt(d["text"]), d["closed"], d["vote"], d["proposal"], d["dossier"], dict(d["counts"]),
                    dict(d["ballots"]), tuple(d["recused"]), _pd(d["effective"]), as_utc(r.decided_at), actions,
                    _lt(d["reasons"]) if d["reasons"] else None, _pd(d["due"]))
