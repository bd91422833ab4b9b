"""coop.board.v1 dossier messages <-> the dossiers domain's values."""

from __future__ import annotations

from coop.board.v1 import common_pb2
from coop.board.v1 import dossiers_pb2 as pb
from coop_board.domain import dossiers as dom
from coop_board.domain.dossiers_changes import ProposalChange
from coop_board.domain.dossiers_documents import Document
from coop_board.domain.texts import LocalizedText
from coop_platform.pbtypes import to_date, to_timestamp

DOSSIER_STATUS = {dom.DRAFT: pb.DOSSIER_STATUS_DRAFT, dom.SUBMITTED: pb.DOSSIER_STATUS_SUBMITTED,
                  dom.SENT_BACK: pb.DOSSIER_STATUS_SENT_BACK, dom.DECIDED: pb.DOSSIER_STATUS_DECIDED}
STATUS_OF_PB = {v: k for k, v in DOSSIER_STATUS.items()}
PROPOSAL_STATUS = {dom.OPEN: pb.PROPOSAL_STATUS_OPEN, dom.ADOPTED: pb.PROPOSAL_STATUS_ADOPTED,
                   dom.REJECTED: pb.PROPOSAL_STATUS_REJECTED, dom.WITHDRAWN: pb.PROPOSAL_STATUS_WITHDRAWN}
CHANGE_KIND = {"new": pb.PROPOSAL_CHANGE_KIND_NEW, "revised": pb.PROPOSAL_CHANGE_KIND_REVISED,
               "unchanged": pb.PROPOSAL_CHANGE_KIND_UNCHANGED, "dropped": pb.PROPOSAL_CHANGE_KIND_DROPPED}


def text_to_pb(text: LocalizedText) -> common_pb2.LocalizedText:
    return common_pb2.LocalizedText(fr=text.fr, nl=text.nl, en=text.en)


def text_from_pb(message: common_pb2.LocalizedText) -> LocalizedText:
    return LocalizedText(fr=message.fr, nl=message.nl, en=message.en)


def drafts_from_pb(proposals) -> list[dom.ProposalDraft]:
    return [dom.ProposalDraft(text_from_pb(p.title), text_from_pb(p.text), p.recommended,
                              text_from_pb(p.recommendation_rationale), p.revises_proposal_id or None)
            for p in proposals]


def send_back_to_pb(s: dom.SendBack | None) -> pb.SendBack | None:
    if s is None:
        return None
    return pb.SendBack(version=s.version, reasons=text_to_pb(s.reasons), due_date=to_date(s.due_on),
                       meeting_id=s.meeting_id, item_id=s.item_id, decision_id=s.decision_id,
                       send_back_time=to_timestamp(s.at))


def dossier_to_pb(d: dom.Dossier) -> pb.Dossier:
    return pb.Dossier(dossier_id=d.dossier_id, title=text_to_pb(d.title), status=DOSSIER_STATUS[d.status],
                      latest_version=d.latest, created_by=d.created_by, create_time=to_timestamp(d.created_at),
                      update_time=to_timestamp(d.updated_at),
                      last_send_back=send_back_to_pb(d.send_backs[-1] if d.send_backs else None))


def document_to_pb(doc: Document) -> pb.Document:
    return pb.Document(document_id=doc.document_id, dossier_id=doc.dossier_id, filename=doc.filename,
                       media_type=doc.media_type, size_bytes=doc.size, sha256=doc.sha256,
                       uploaded_by=doc.uploaded_by, upload_time=to_timestamp(doc.uploaded_at))


def proposal_to_pb(d: dom.Dossier, p: dom.Proposal) -> pb.Proposal:
    state = d.states[p.proposal_id]
    return pb.Proposal(proposal_id=p.proposal_id, version=p.version, position=p.position, title=text_to_pb(p.title),
                       text=text_to_pb(p.text), recommended=p.recommended,
                       recommendation_rationale=text_to_pb(p.rationale), revises_proposal_id=p.revises or "",
                       status=PROPOSAL_STATUS[state.status], text_to_vote=text_to_pb(state.text_to_vote),
                       decision_id=state.decision_id or "")


def version_to_pb(d: dom.Dossier, v: dom.DossierVersion, documents: list[Document]) -> pb.DossierVersion:
    return pb.DossierVersion(dossier_id=d.dossier_id, version=v.number, submitted_by=v.submitted_by,
                             submit_time=to_timestamp(v.submitted_at), change_note=text_to_pb(v.change_note),
                             proposals=[proposal_to_pb(d, p) for p in v.proposals],
                             documents=[document_to_pb(doc) for doc in documents])


def amendment_to_pb(dossier_id: str, a: dom.Amendment) -> pb.Amendment:
    return pb.Amendment(amendment_id=a.amendment_id, dossier_id=dossier_id, version=a.version,
                        proposal_id=a.proposal_id, parent_id=a.parent_id, level=a.level, author_id=a.author_id,
                        text=text_to_pb(a.text), diff=text_to_pb(a.diff), status=PROPOSAL_STATUS[a.status],
                        propose_time=to_timestamp(a.proposed_at), decision_id=a.decision_id or "",
                        proposed_text=text_to_pb(a.proposed_text))


def change_to_pb(c: ProposalChange) -> pb.ProposalChange:
    return pb.ProposalChange(kind=CHANGE_KIND[c.kind], proposal_id=c.proposal_id or "",
                             previous_proposal_id=c.previous_id or "", title_diff=text_to_pb(c.title_diff),
                             text_diff=text_to_pb(c.text_diff), rationale_diff=text_to_pb(c.rationale_diff),
                             recommended_before=c.recommended_before, recommended_after=c.recommended_after)
