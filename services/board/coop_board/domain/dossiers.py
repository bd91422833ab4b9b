"""A dossier: a topic the delegated administration (management) brings to the board, in versions.

Each version holds two or more proposals (texts in FR/NL/EN, a "recommended by management" flag
with its rationale) and background documents. A submitted version is never changed: what the
board does with it (amendments, outcomes, the text to vote on once an amendment is adopted) is
kept beside it. When the board rejects every proposal and sends the dossier back, management
submits the next version with a note of what changed and why.

Amendments are the board's: a director proposes a new text for a proposal (level 1) or for an
amendment (level 2, at most), with a unified diff against the text it amends. They are voted
before what they amend (deepest first); an adopted amendment's text becomes its parent's text to
vote on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from coop_board.domain.dossiers_diff import unified_localized
from coop_board.domain.links import ProposalRef
from coop_board.domain.texts import LocalizedText
from coop_domain.clock import local_date
from coop_domain.errors import FailedPrecondition, InvalidArgument, NotFound

DRAFT, SUBMITTED, SENT_BACK, DECIDED = "draft", "submitted", "sent_back", "decided"
STATUSES = (DRAFT, SUBMITTED, SENT_BACK, DECIDED)
OPEN, ADOPTED, REJECTED, WITHDRAWN = "open", "adopted", "rejected", "withdrawn"
OUTCOMES = (ADOPTED, REJECTED)

MIN_PROPOSALS = 2
MAX_PROPOSALS = 50
MAX_AMENDMENT_LEVEL = 2
MAX_TEXT_CHARS = 100_000


def require_complete(text: LocalizedText, path: str, what: str) -> None:
    """INVALID_ARGUMENT naming the first missing language (`path.nl`), or a text too long."""
    missing = text.missing()
    if missing:
        raise InvalidArgument(f"{what} needs a text in French, Dutch and English: {', '.join(missing)} missing",
                              field=f"{path}.{missing[0]}", reason="TEXT_LANGUAGE_MISSING",
                              missing=",".join(missing))
    for lang, value in text.as_dict().items():
        if len(value) > MAX_TEXT_CHARS:
            raise InvalidArgument(f"{what} is longer than {MAX_TEXT_CHARS} characters", field=f"{path}.{lang}",
                                  reason="TEXT_TOO_LONG", max_chars=MAX_TEXT_CHARS)


@dataclass(frozen=True)
class ProposalDraft:
    """A proposal as management submits it; `revises` names the proposal of the previous version
    it revises (None: a new proposal)."""

    title: LocalizedText
    text: LocalizedText
    recommended: bool = False
    rationale: LocalizedText = LocalizedText()
    revises: str | None = None


@dataclass(frozen=True)
class Proposal:
    """A proposal as submitted in one version: never changed afterwards."""

    proposal_id: str
    version: int
    position: int             # 1-based, in the order management submitted them
    title: LocalizedText
    text: LocalizedText
    recommended: bool
    rationale: LocalizedText
    revises: str | None


@dataclass
class ProposalState:
    """What the board did with a proposal: its outcome and the text it votes on (the submitted
    text, or the text of the last amendment it adopted)."""

    status: str = OPEN
    text_to_vote: LocalizedText = LocalizedText()
    decision_id: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True)
class DossierVersion:
    number: int
    submitted_by: str
    submitted_at: datetime
    change_note: LocalizedText         # empty for version 1
    proposals: tuple[Proposal, ...]
    document_ids: tuple[str, ...]


@dataclass
class Amendment:
    amendment_id: str
    version: int
    proposal_id: str          # the proposal at the root of its chain
    parent_id: str            # the proposal or amendment it amends
    level: int                # 1 or 2
    author_id: str
    text: LocalizedText
    diff: LocalizedText       # unified diff against the parent's text to vote on, per language
    proposed_at: datetime
    proposed_text: LocalizedText = LocalizedText()  # as proposed (text changes when a sub-amendment is adopted)
    status: str = OPEN
    decision_id: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True)
class SendBack:
    version: int
    reasons: LocalizedText
    due_on: date
    meeting_id: str
    item_id: str
    decision_id: str
    at: datetime


@dataclass
class Dossier:
    dossier_id: str
    tenant: str
    title: LocalizedText
    created_by: str
    created_at: datetime
    status: str = DRAFT
    versions: list[DossierVersion] = field(default_factory=list)
    states: dict[str, ProposalState] = field(default_factory=dict)        # by proposal id
    amendments: dict[str, Amendment] = field(default_factory=dict)        # by amendment id, in order
    send_backs: list[SendBack] = field(default_factory=list)
    updated_at: datetime | None = None

    # --- reads ----------------------------------------------------------------------------------

    @property
    def latest(self) -> int:
        return self.versions[-1].number if self.versions else 0

    @property
    def due_on(self) -> date | None:
        """While with management after a send back: when the next version is due."""
        return self.send_backs[-1].due_on if self.status == SENT_BACK and self.send_backs else None

    def version(self, number: int = 0, field_path: str = "version") -> DossierVersion:
        """A version (0: the latest); NOT_FOUND when there is none."""
        if number < 0:
            raise InvalidArgument("version is 1 or more (0: the latest)", field=field_path,
                                  reason="INVALID_VERSION")
        if not self.versions or number > self.latest:
            raise NotFound(f"dossier {self.dossier_id} has no version {number or 'submitted yet'}",
                           field=field_path, reason="VERSION_NOT_FOUND")
        return self.versions[(number or self.latest) - 1]

    def proposal(self, proposal_id: str) -> Proposal | None:
        for v in self.versions:
            for p in v.proposals:
                if p.proposal_id == proposal_id:
                    return p
        return None

    def amendments_of(self, version: int) -> list[Amendment]:
        return [a for a in self.amendments.values() if a.version == version]

    def text_to_vote(self, subject_id: str) -> LocalizedText:
        if subject_id in self.amendments:
            return self.amendments[subject_id].text
        return self.states[subject_id].text_to_vote

    def status_of(self, subject_id: str) -> str:
        if subject_id in self.amendments:
            return self.amendments[subject_id].status
        return self.states[subject_id].status

    def has(self, subject_id: str) -> bool:
        return subject_id in self.amendments or subject_id in self.states

    def ref(self, subject_id: str) -> ProposalRef:
        """The proposal or amendment as the meetings family votes on it."""
        if subject_id in self.amendments:
            a = self.amendments[subject_id]
            root = self.proposal(a.proposal_id)
            assert root is not None
            return ProposalRef(a.amendment_id, self.dossier_id, a.version, a.parent_id, a.level, root.title,
                               a.text, False, a.status)
        p = self.proposal(subject_id)
        if p is None:
            raise NotFound(f"no proposal or amendment {subject_id}", field="subject_id", reason="SUBJECT_NOT_FOUND")
        state = self.states[subject_id]
        return ProposalRef(p.proposal_id, self.dossier_id, p.version, None, 0, p.title, state.text_to_vote,
                           p.recommended, state.status)

    def voting_order(self, version: int) -> list[ProposalRef]:
        """Every proposal of the version and every amendment to them, in the order they are voted:
        per proposal (in submitted order), its amendments deepest first, then the proposal."""
        children: dict[str, list[Amendment]] = {}
        for a in self.amendments_of(version):
            children.setdefault(a.parent_id, []).append(a)

        def walk(subject_id: str) -> list[ProposalRef]:
            out: list[ProposalRef] = []
            for child in children.get(subject_id, []):
                out.extend(walk(child.amendment_id))
            out.append(self.ref(subject_id))
            return out

        return [ref for p in self.version(version).proposals for ref in walk(p.proposal_id)]

    # --- management -----------------------------------------------------------------------------

    def submit_version(self, drafts: list[ProposalDraft], proposal_ids: list[str], document_ids: list[str],
                       change_note: LocalizedText, by: str, at: datetime) -> DossierVersion:
        """Management submits version 1 (a draft dossier) or the next version (after a send back)."""
        if self.status == SUBMITTED:
            raise FailedPrecondition("the board has this dossier's latest version: it may only be submitted "
                                     "again after the board sends it back", field="dossier_id",
                                     reason="DOSSIER_BEFORE_BOARD", version=self.latest)
        if self.status == DECIDED:
            raise FailedPrecondition("the board adopted a proposal of this dossier", field="dossier_id",
                                     reason="DOSSIER_DECIDED")
        if not MIN_PROPOSALS <= len(drafts) <= MAX_PROPOSALS:
            raise InvalidArgument(f"a version has {MIN_PROPOSALS} to {MAX_PROPOSALS} proposals, not {len(drafts)}",
                                  field="proposals", reason="PROPOSAL_COUNT", min=MIN_PROPOSALS, max=MAX_PROPOSALS)
        number = self.latest + 1
        previous = {p.proposal_id for p in self.versions[-1].proposals} if self.versions else set()
        revised: set[str] = set()
        for i, d in enumerate(drafts):
            path = f"proposals[{i}]"
            require_complete(d.title, f"{path}.title", "a proposal's title")
            require_complete(d.text, f"{path}.text", "a proposal's text")
            if d.recommended:
                require_complete(d.rationale, f"{path}.recommendation_rationale", "a recommendation's rationale")
            elif not d.rationale.empty:
                raise InvalidArgument("a rationale is given only with a recommendation",
                                      field=f"{path}.recommendation_rationale", reason="RATIONALE_WITHOUT_RECOMMENDATION")
            if d.revises:
                if d.revises not in previous:
                    raise InvalidArgument(f"{d.revises} is not a proposal of version {number - 1}",
                                          field=f"{path}.revises_proposal_id", reason="NOT_A_PREVIOUS_PROPOSAL")
                if d.revises in revised:
                    raise InvalidArgument(f"{d.revises} is revised twice", field=f"{path}.revises_proposal_id",
                                          reason="PROPOSAL_REVISED_TWICE")
                revised.add(d.revises)
        if number > 1:
            require_complete(change_note, "change_note", "the note of what changed and why")
        elif not change_note.empty:
            raise InvalidArgument("version 1 has no change note", field="change_note", reason="CHANGE_NOTE_ON_FIRST")
        if len(set(document_ids)) != len(document_ids):
            raise InvalidArgument("a document is listed twice", field="document_ids", reason="DUPLICATE_DOCUMENT")
        proposals = tuple(
            Proposal(pid, number, n, d.title, d.text, d.recommended, d.rationale, d.revises or None)
            for n, (pid, d) in enumerate(zip(proposal_ids, drafts, strict=True), start=1))
        version = DossierVersion(number, by, at, change_note, proposals, tuple(document_ids))
        self.versions.append(version)
        for p in proposals:
            self.states[p.proposal_id] = ProposalState(text_to_vote=p.text)
        self.status = SUBMITTED
        self.updated_at = at
        return version

    # --- the board ------------------------------------------------------------------------------

    def _before_board(self, version: int, what: str) -> None:
        if self.status not in (SUBMITTED, DECIDED) or version != self.latest:
            raise FailedPrecondition(f"{what}: version {version} of dossier {self.dossier_id} is not before "
                                     "the board", field="subject_id", reason="VERSION_NOT_BEFORE_BOARD",
                                     status=self.status, latest_version=self.latest)

    def propose_amendment(self, amendment_id: str, parent_id: str, text: LocalizedText, author_id: str,
                          at: datetime) -> Amendment:
        """A director's new text for an open proposal (level 1) or open amendment (level 2)."""
        if not self.has(parent_id):
            raise NotFound(f"no proposal or amendment {parent_id}", field="parent_id", reason="PARENT_NOT_FOUND")
        parent = self.amendments.get(parent_id)
        level = parent.level + 1 if parent else 1
        root = self.proposal(parent.proposal_id if parent else parent_id)
        assert root is not None
        status = self.status_of(parent_id)
        if status != OPEN:
            reason = {ADOPTED: "AMENDED_SUBJECT_ADOPTED", REJECTED: "AMENDED_SUBJECT_REJECTED",
                      WITHDRAWN: "AMENDED_SUBJECT_WITHDRAWN"}[status]
            raise FailedPrecondition(f"{parent_id} is {status}: only an open proposal or amendment is amended",
                                     field="parent_id", reason=reason, status=status)
        if level > MAX_AMENDMENT_LEVEL:
            raise FailedPrecondition(f"amendments go at most {MAX_AMENDMENT_LEVEL} levels deep: {parent_id} is "
                                     "already an amendment of an amendment", field="parent_id",
                                     reason="AMENDMENT_TOO_DEEP", max_level=MAX_AMENDMENT_LEVEL)
        if self.status != SUBMITTED or root.version != self.latest:
            raise FailedPrecondition("amendments are proposed on the version before the board",
                                     field="parent_id", reason="VERSION_NOT_BEFORE_BOARD", status=self.status)
        require_complete(text, "text", "an amendment")
        current = self.text_to_vote(parent_id)
        if text == current:
            raise InvalidArgument("the amendment's text is the text it amends", field="text",
                                  reason="AMENDMENT_CHANGES_NOTHING")
        amendment = Amendment(amendment_id, root.version, root.proposal_id, parent_id, level, author_id, text,
                              unified_localized(current, text, parent_id, amendment_id), at, proposed_text=text)
        self.amendments[amendment_id] = amendment
        self.updated_at = at
        return amendment

    def withdraw_amendment(self, amendment_id: str, by: str, at: datetime) -> Amendment:
        """Its author withdraws an open amendment; its open sub-amendments go with it."""
        a = self.amendments.get(amendment_id)
        if a is None:
            raise NotFound(f"no amendment {amendment_id}", field="amendment_id", reason="AMENDMENT_NOT_FOUND")
        if a.author_id != by:
            raise FailedPrecondition("only its author withdraws an amendment", field="amendment_id",
                                     reason="NOT_THE_AUTHOR")
        if a.status != OPEN:
            raise FailedPrecondition(f"the amendment is {a.status}", field="amendment_id",
                                     reason="AMENDMENT_NOT_OPEN", status=a.status)
        for child in [c for c in self.amendments.values() if c.parent_id == amendment_id and c.status == OPEN]:
            child.status, child.decided_at = WITHDRAWN, at
        a.status, a.decided_at = WITHDRAWN, at
        self.updated_at = at
        return a

    def record_outcome(self, subject_id: str, outcome: str, decision_id: str | None, at: datetime) -> None:
        """The board's vote on a proposal or amendment. An adopted amendment's text becomes its
        parent's text to vote on; an adopted proposal decides the dossier."""
        if outcome not in OUTCOMES:
            raise InvalidArgument(f"an outcome is adopted or rejected, not {outcome!r}", field="outcome",
                                  reason="INVALID_OUTCOME")
        if not self.has(subject_id):
            raise NotFound(f"no proposal or amendment {subject_id}", field="subject_id", reason="SUBJECT_NOT_FOUND")
        ref = self.ref(subject_id)
        self._before_board(ref.version, "no vote")
        if ref.status != OPEN:
            raise FailedPrecondition(f"{subject_id} is {ref.status}", field="subject_id", reason="SUBJECT_NOT_OPEN",
                                     status=ref.status)
        pending = [a.amendment_id for a in self.amendments.values() if a.parent_id == subject_id and a.status == OPEN]
        if pending:
            raise FailedPrecondition("amendments are voted before what they amend", field="subject_id",
                                     reason="AMENDMENTS_PENDING", pending=pending)
        if subject_id in self.amendments:
            a = self.amendments[subject_id]
            if self.status_of(a.parent_id) != OPEN:
                raise FailedPrecondition("the amended text is no longer open", field="subject_id",
                                         reason="SUBJECT_NOT_OPEN")
            a.status, a.decision_id, a.decided_at = outcome, decision_id, at
            if outcome == ADOPTED:
                if a.parent_id in self.amendments:
                    parent = self.amendments[a.parent_id]
                    parent.text = a.text
                    parent.diff = unified_localized(self.text_to_vote(parent.parent_id), a.text, parent.parent_id,
                                                    parent.amendment_id)
                else:
                    self.states[a.parent_id].text_to_vote = a.text
        else:
            if outcome == ADOPTED and self.status == DECIDED:
                raise FailedPrecondition("the board already adopted a proposal of this version",
                                         field="subject_id", reason="ANOTHER_PROPOSAL_ADOPTED")
            state = self.states[subject_id]
            state.status, state.decision_id, state.decided_at = outcome, decision_id, at
            if outcome == ADOPTED:
                self.status = DECIDED
        self.updated_at = at

    def send_back(self, version: int, reasons: LocalizedText, due_on: date, meeting_id: str, item_id: str,
                  decision_id: str, at: datetime) -> SendBack:
        """The board rejects every proposal of the version: back to management, due by `due_on`."""
        if self.status == DECIDED and version == self.latest:
            raise FailedPrecondition("the board adopted a proposal of this version: it cannot send it back",
                                     field="version", reason="PROPOSAL_ADOPTED")
        if self.status != SUBMITTED or version != self.latest:
            raise FailedPrecondition(f"version {version} of dossier {self.dossier_id} is not before the board",
                                     field="version", reason="VERSION_NOT_BEFORE_BOARD", status=self.status,
                                     latest_version=self.latest)
        if reasons.empty:
            raise InvalidArgument("a send back says why", field="reasons", reason="SEND_BACK_REASONS_MISSING")
        if due_on < local_date(at):
            raise InvalidArgument("the due date is in the past", field="due_on", reason="DUE_DATE_PAST")
        for p in self.versions[-1].proposals:
            state = self.states[p.proposal_id]
            if state.status == OPEN:
                state.status, state.decision_id, state.decided_at = REJECTED, decision_id, at
        for a in self.amendments_of(version):
            if a.status == OPEN:
                a.status, a.decision_id, a.decided_at = REJECTED, decision_id, at
        sent = SendBack(version, reasons, due_on, meeting_id, item_id, decision_id, at)
        self.send_backs.append(sent)
        self.status = SENT_BACK
        self.updated_at = at
        return sent


def new_dossier(dossier_id: str, tenant: str, title: LocalizedText, by: str, at: datetime) -> Dossier:
    require_complete(title, "title", "a dossier's title")
    return Dossier(dossier_id, tenant, title, by, at, updated_at=at)

