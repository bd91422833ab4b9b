"""The cross-family property test's own model of the board (tests/service_layer/
test_board_governance_properties.py), written without the code under test: who sits on a day
(from the mandates the test saw created and ended), the quorum at a vote, a vote's outcome, and
what a member may read (nothing of a closed item, every language present)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from coop_board.domain.texts import LANGUAGES

SECRET = "CONFIDENTIAL"  # every closed item's content carries it, and nothing else does


@dataclass
class MandateModel:
    director: str
    seat: str
    start: date
    covered_until: date      # first day no longer covered
    end: date                # the term's end date
    ended: bool = False
    election: str | None = None

    def covers(self, day: date) -> bool:
        return self.start <= day < self.covered_until


def sitting(mandates: dict[str, MandateModel], day: date) -> set[str]:
    return {m.director for m in mandates.values() if m.covers(day)}


def covering(mandates: dict[str, MandateModel], day: date) -> set[str]:
    return {mid for mid, m in mandates.items() if m.covers(day)}


@dataclass(frozen=True)
class QuorumModel:
    sitting: int
    eligible: int
    present: int
    recused: tuple[str, ...]

    @property
    def met_with(self) -> tuple[int, int]:
        return self.present, self.eligible


def quorum_model(sitting_ids: set[str], attendance: dict[str, str], proxies: dict[str, str],
                 recused: set[str], count_proxies: bool) -> QuorumModel:
    eligible = sitting_ids - recused
    present = {d for d in eligible if attendance.get(d) in ("present", "remote")}
    if count_proxies:
        present |= {g for g, h in proxies.items() if g in eligible and h in present}
    return QuorumModel(len(sitting_ids), len(eligible), len(present), tuple(sorted(recused & sitting_ids)))


def quorum_met(q: QuorumModel, num: int, den: int) -> bool:
    """More than num/den of the directors who may vote are there (and at least one)."""
    return q.present >= 1 and q.present * den > q.eligible * num


def outcome_model(subject: str, majority: str, counts: dict[str, int], options: tuple[str, ...],
                  chair_choice: str | None) -> str:
    """The outcome a vote must have: simple = more for than against (abstentions not cast),
    two thirds = at least two thirds of the votes cast, at least one; a simple tie goes the way
    of the chair's open vote when the casting vote applies (`chair_choice`)."""
    if subject == "choice":
        tally = {o: counts.get(o, 0) for o in options}
        cast = sum(tally.values())
        if cast == 0:
            return "rejected"
        top = max(tally.values())
        leaders = [o for o, n in tally.items() if n == top]
        wins = 2 * top > cast if majority == "simple" else 3 * top >= 2 * cast
        if len(leaders) == 1 and wins:
            return f"chosen:{leaders[0]}"
        if majority == "simple" and len(leaders) == 2 and 2 * top == cast and chair_choice in leaders:
            return f"chosen:{chair_choice}"
        return "rejected"
    yes, no = counts.get("for", 0), counts.get("against", 0)
    if majority == "simple":
        if yes > no:
            return "adopted"
        if yes == no and yes > 0 and chair_choice in ("for", "against"):
            return "adopted" if chair_choice == "for" else "rejected"
        return "rejected"
    return "adopted" if yes > 0 and 3 * yes >= 2 * (yes + no) else "rejected"


@dataclass
class Ledger:
    """What the test saw happen, keyed by ids the use cases returned."""

    mandates: dict[str, MandateModel] = field(default_factory=dict)
    attendance: dict[str, dict[str, str]] = field(default_factory=dict)      # meeting -> director -> status
    proxies: dict[str, dict[str, str]] = field(default_factory=dict)         # meeting -> giver -> holder
    declared: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # meeting -> (director, item)
    ballots: dict[str, dict[str, str]] = field(default_factory=dict)         # vote -> director -> choice
    secret_counts: dict[str, dict[str, int]] = field(default_factory=dict)   # vote -> counts on paper
    quorum_at_close: dict[str, tuple[QuorumModel, bool, set[str]]] = field(default_factory=dict)
    versions: dict[tuple[str, int], object] = field(default_factory=dict)    # as submitted
    approved: dict[str, object] = field(default_factory=dict)                # minutes as approved
    published_docs: dict[tuple, object] = field(default_factory=dict)
    events_checked: int = 0


def blank(text: str) -> bool:
    return not text.strip()


def check_public_minutes(docs: dict, decisions: dict) -> None:
    """Published rows: every language of each, no blank text, nothing of a closed item."""
    by_minutes: dict[str, set[str]] = {}
    for (_, minutes_id, lang), doc in docs.items():
        by_minutes.setdefault(minutes_id, set()).add(lang)
        assert not blank(doc.title), (minutes_id, lang)
        for heading, body in doc.sections:
            assert not blank(heading) and not blank(body), (minutes_id, lang, heading)
        assert SECRET not in doc.text and SECRET not in doc.title
    for minutes_id, langs in by_minutes.items():
        assert langs == set(LANGUAGES), (minutes_id, langs)
    by_decision: dict[str, dict[str, object]] = {}
    for (_, decision_id, lang), d in decisions.items():
        by_decision.setdefault(decision_id, {})[lang] = d
        assert not blank(d.title)
        assert SECRET not in d.title and SECRET not in d.adopted_text
        if d.closed:
            assert d.adopted_text == "" and (d.in_favour, d.against, d.abstentions) == (0, 0, 0)
    for decision_id, rows in by_decision.items():
        assert set(rows) == set(LANGUAGES), decision_id
        blanks = {lang for lang, d in rows.items() if blank(d.adopted_text)}
        assert blanks in (set(), set(LANGUAGES)), (decision_id, blanks)  # all or none: never one missing
