"""What changed in a dossier's version against the previous one, per proposal and per language:
"new", "revised", "unchanged", or "dropped" (a proposal of the previous version not carried over),
with unified diffs of the title, text and rationale."""

from __future__ import annotations

from dataclasses import dataclass

from coop_board.domain.dossiers import Dossier
from coop_board.domain.dossiers_diff import unified_localized
from coop_board.domain.texts import LocalizedText


@dataclass(frozen=True)
class ProposalChange:
    """How one proposal of a version differs from the previous version ("new", "revised",
    "unchanged"), or a proposal of the previous version that was not carried over ("dropped")."""

    kind: str
    proposal_id: str | None        # in this version (None when dropped)
    previous_id: str | None        # in the previous version (None when new)
    title_diff: LocalizedText
    text_diff: LocalizedText
    rationale_diff: LocalizedText
    recommended_before: bool
    recommended_after: bool


def changes(dossier: Dossier, number: int) -> list[ProposalChange]:
    """What changed in a version against the previous one, per proposal (and per language)."""
    current = dossier.version(number)
    previous = dossier.versions[current.number - 2] if current.number > 1 else None
    before = {p.proposal_id: p for p in previous.proposals} if previous else {}
    empty = LocalizedText()
    out: list[ProposalChange] = []
    for p in current.proposals:
        old = before.get(p.revises) if p.revises else None
        new_label = f"version {p.version} proposal {p.position}"
        if old is None:
            out.append(ProposalChange(
                "new", p.proposal_id, None, unified_localized(empty, p.title, "/dev/null", new_label),
                unified_localized(empty, p.text, "/dev/null", new_label),
                unified_localized(empty, p.rationale, "/dev/null", new_label), False, p.recommended))
            continue
        old_label = f"version {old.version} proposal {old.position}"
        same = (old.title, old.text, old.rationale, old.recommended) == (p.title, p.text, p.rationale,
                                                                         p.recommended)
        out.append(ProposalChange(
            "unchanged" if same else "revised", p.proposal_id, old.proposal_id,
            unified_localized(old.title, p.title, old_label, new_label),
            unified_localized(old.text, p.text, old_label, new_label),
            unified_localized(old.rationale, p.rationale, old_label, new_label), old.recommended,
            p.recommended))
    carried = {p.revises for p in current.proposals if p.revises}
    for old in (previous.proposals if previous else ()):
        if old.proposal_id not in carried:
            label = f"version {old.version} proposal {old.position}"
            out.append(ProposalChange(
                "dropped", None, old.proposal_id, unified_localized(old.title, empty, label, "/dev/null"),
                unified_localized(old.text, empty, label, "/dev/null"),
                unified_localized(old.rationale, empty, label, "/dev/null"), old.recommended, False))
    return out
