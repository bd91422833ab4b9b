"""An election as its organisers define it (texts, questions, window, options) and the
rules that make a definition acceptable. Pure: the api layer parses requests into these
value objects and the service layer stores them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from coop_domain.errors import InvalidArgument

from .model import CANDIDATE_METHODS, ElectionDefinition, Majority, Method, Question, Quorum
from .published import parse_fraction
from .window import VotingWindow, _require_aware

LANGUAGES = ("fr", "nl", "en")
MAX_QUESTIONS = 20
MAX_CANDIDATES = 200
MAX_TEXT = 4000
MIN_YEAR, MAX_YEAR = 2000, 2200  # keeps every date computation far from datetime's limits
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$")
QUESTION_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_id(value: str, what: str, pattern: re.Pattern[str] = ID_RE, *, field: str | None = None) -> str:
    """Ids (voters, candidates, questions) are short printable tokens. `field`: the request
    field path (default `what` when it is one)."""
    if not isinstance(value, str) or not pattern.match(value):
        raise InvalidArgument(f"{what} must be 1-100 characters from letters, digits and ._:@-",
                              field=field or (what if what.isidentifier() else None), reason="INVALID_ID")
    return value


@dataclass(frozen=True)
class Text:
    language: str
    title: str
    description: str = ""


def check_texts(texts: Iterable[Text], what: str, *, need_title: bool = True,
                field: str | None = None) -> tuple[Text, ...]:
    """`field`: the request field path of the texts (e.g. "texts", "questions[0].texts")."""
    texts = tuple(texts)
    if not texts:
        raise InvalidArgument(f"{what}: give a text in at least one of fr, nl, en", field=field,
                              reason="TEXT_MISSING")
    seen: set[str] = set()
    for t in texts:
        if t.language not in LANGUAGES:
            raise InvalidArgument(f"{what}: language must be one of fr, nl, en", field=field, reason="UNKNOWN_LANGUAGE")
        if t.language in seen:
            raise InvalidArgument(f"{what}: language {t.language} given twice", field=field, reason="LANGUAGE_TWICE")
        seen.add(t.language)
        if need_title and not t.title.strip():
            raise InvalidArgument(f"{what}: the {t.language} title is empty", field=field, reason="TITLE_EMPTY")
        if len(t.title) > 300 or len(t.description) > MAX_TEXT:
            raise InvalidArgument(f"{what}: text too long", field=field, reason="TEXT_TOO_LONG")
    return texts


@dataclass(frozen=True)
class QuestionSpec:
    question_id: str
    method: Method
    texts: tuple[Text, ...]
    candidates: tuple[str, ...] = ()
    seats: int = 1
    mandate_years: int = 0
    majority: str = "1/2"
    majority_strict: bool = True
    quorum_count: int = 0
    quorum_fraction: str = "0"

    def question(self, extra_candidates: Iterable[str] = ()) -> Question:
        """The counting question (candidacies accepted at nomination close included)."""
        candidates = tuple(dict.fromkeys((*self.candidates, *extra_candidates)))
        return Question(
            id=self.question_id, method=self.method, candidates=candidates, seats=self.seats,
            majority=Majority(parse_fraction(self.majority, "majority"), self.majority_strict),
            quorum=Quorum(self.quorum_count, parse_fraction(self.quorum_fraction, "quorum fraction")),
        )


#: Trustees of one election: few enough to run a key ceremony by hand.
MAX_TRUSTEES = 20
#: The fewest shuffles of an encrypted election's ranked ballots (coop_elections.domain.crypto.tally).
MIN_MIXERS = 2
MAX_MIXERS = 10


@dataclass(frozen=True)
class EncryptionSpec:
    """An encrypted election's setting: k of these n trustees decrypt; these mixers shuffle the
    ranked ballots, in this order. Ids are the principals' subjects (who may publish a trustee's
    key or a mix). Partners choose per election; without one, ballots are stored in the clear."""

    threshold: int
    trustees: tuple[str, ...]
    mixers: tuple[str, ...]

    def trustee_number(self, subject: str) -> int | None:
        """1-based trustee number of `subject` in this election, or None."""
        return self.trustees.index(subject) + 1 if subject in self.trustees else None


def check_encryption(encryption: EncryptionSpec) -> EncryptionSpec:
    """InvalidArgument naming the field of the first problem of an encrypted election's setting."""
    n = len(encryption.trustees)
    if not 1 <= n <= MAX_TRUSTEES:
        raise InvalidArgument(f"an encrypted election has 1 to {MAX_TRUSTEES} trustees",
                              field="encryption.trustee_ids", reason="TRUSTEE_COUNT")
    for trustee in encryption.trustees:
        check_id(trustee, "trustee id", field="encryption.trustee_ids")
    if len(set(encryption.trustees)) != n:
        raise InvalidArgument("a trustee is named twice", field="encryption.trustee_ids", reason="TRUSTEE_TWICE")
    if not 1 <= encryption.threshold <= n:
        raise InvalidArgument(f"the threshold is 1 to the number of trustees ({n})", field="encryption.threshold",
                              reason="THRESHOLD_OUT_OF_RANGE")
    if not MIN_MIXERS <= len(encryption.mixers) <= MAX_MIXERS:
        raise InvalidArgument(f"{MIN_MIXERS} to {MAX_MIXERS} mixers shuffle the ranked ballots, each "
                              "independent of the others", field="encryption.mixer_ids", reason="MIXER_COUNT")
    for mixer in encryption.mixers:
        check_id(mixer, "mixer id", field="encryption.mixer_ids")
    if len(set(encryption.mixers)) != len(encryption.mixers):
        raise InvalidArgument("a mixer is named twice: each shuffle is by another party",
                              field="encryption.mixer_ids", reason="MIXER_TWICE")
    return encryption


@dataclass(frozen=True)
class ElectionSpec:
    texts: tuple[Text, ...]
    questions: tuple[QuestionSpec, ...]
    window: VotingWindow
    roll_cutoff: datetime
    allow_revote: bool = False
    max_proxies_held: int = 0
    nominations_open: datetime | None = None
    nominations_close: datetime | None = None
    max_permanent_staff_seats: int = 0
    extra: dict[str, str] = field(default_factory=dict)
    encryption: EncryptionSpec | None = None  # None: plaintext ballots

    @property
    def has_nominations(self) -> bool:
        return self.nominations_close is not None


def make_spec(
    texts: Iterable[Text], questions: Iterable[QuestionSpec], *, opens_at: datetime,
    assembly_day: date, closes_local: time, tz: str, roll_cutoff: datetime | None,
    allow_revote: bool, max_proxies_held: int, nominations_open: datetime | None,
    nominations_close: datetime | None, max_permanent_staff_seats: int,
    encryption: EncryptionSpec | None = None,
) -> ElectionSpec:
    """Validate everything about a new election; InvalidArgument names the first problem."""
    texts = check_texts(texts, "election", field="texts")
    for what, path, value in (("opening time", "window.opens_at", opens_at),
                              ("assembly day", "window.assembly_day", assembly_day),
                              ("roll cut-off", "roll_cutoff", roll_cutoff),
                              ("nominations_open", "nominations_open", nominations_open),
                              ("nominations_close", "nominations_close", nominations_close)):
        if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
            raise InvalidArgument(f"{what} must fall between {MIN_YEAR} and {MAX_YEAR}", field=path,
                                  reason="YEAR_OUT_OF_RANGE")
    window = VotingWindow(opens_at, assembly_day, closes_local, tz)
    cutoff = window.opens_at if roll_cutoff is None else _require_aware(roll_cutoff, "roll cut-off", "roll_cutoff")
    if cutoff > window.opens_at:
        raise InvalidArgument("the roll cut-off must not be after the opening", field="roll_cutoff",
                              reason="ROLL_CUTOFF_AFTER_OPENING")
    if not 0 <= max_proxies_held <= 10:
        raise InvalidArgument("max_proxies_held must be between 0 and 10", field="max_proxies_held",
                              reason="OUT_OF_RANGE")
    if not 0 <= max_permanent_staff_seats <= 100:
        raise InvalidArgument("max_permanent_staff_seats must be between 0 and 100",
                              field="max_permanent_staff_seats", reason="OUT_OF_RANGE")
    if (nominations_open is None) != (nominations_close is None):
        raise InvalidArgument("give both nominations_open and nominations_close, or neither",
                              field="nominations_close" if nominations_close is None else "nominations_open",
                              reason="NOMINATION_WINDOW_INCOMPLETE")
    if nominations_open is not None and nominations_close is not None:
        nominations_open = _require_aware(nominations_open, "nominations_open", "nominations_open")
        nominations_close = _require_aware(nominations_close, "nominations_close", "nominations_close")
        if not nominations_open < nominations_close <= window.opens_at:
            raise InvalidArgument("nominations must open before they close, and close by the opening",
                                  field="nominations_close", reason="NOMINATION_WINDOW_OUT_OF_ORDER")
    questions = tuple(questions)
    if not 1 <= len(questions) <= MAX_QUESTIONS:
        raise InvalidArgument(f"an election has 1 to {MAX_QUESTIONS} questions", field="questions",
                              reason="QUESTION_COUNT")
    ids = [check_id(q.question_id, "question_id", QUESTION_ID_RE, field=f"questions[{n}].question_id")
           for n, q in enumerate(questions)]
    if len(set(ids)) != len(ids):
        raise InvalidArgument("duplicate question ids", field="questions", reason="DUPLICATE_QUESTION")
    checked = []
    for n, q in enumerate(questions):
        at = f"questions[{n}]"
        check_texts(q.texts, f"question {q.question_id}", field=f"{at}.texts")
        for c in q.candidates:
            check_id(c, f"question {q.question_id}: candidate id", field=f"{at}.candidates")
        if len(q.candidates) > MAX_CANDIDATES:
            raise InvalidArgument(f"question {q.question_id}: at most {MAX_CANDIDATES} candidates",
                                  field=f"{at}.candidates", reason="TOO_MANY_CANDIDATES")
        if not 0 <= q.mandate_years <= 10:
            raise InvalidArgument(f"question {q.question_id}: mandate_years must be between 0 and 10",
                                  field=f"{at}.mandate_years", reason="OUT_OF_RANGE")
        if q.mandate_years and q.method not in CANDIDATE_METHODS:
            raise InvalidArgument(f"question {q.question_id}: only candidate questions have mandates",
                                  field=f"{at}.mandate_years", reason="MANDATE_WITHOUT_CANDIDATES")
        if not 0 <= q.quorum_count <= 10**12:
            raise InvalidArgument(f"question {q.question_id}: bad quorum count", field=f"{at}.quorum_count",
                                  reason="OUT_OF_RANGE")
        if q.method in CANDIDATE_METHODS and not q.candidates and nominations_close is not None:
            # candidates come from candidacies; check the rest with a placeholder slate
            if not 1 <= q.seats <= MAX_CANDIDATES:
                raise InvalidArgument(f"question {q.question_id}: seats must be between 1 and {MAX_CANDIDATES}",
                                      field=f"{at}.seats", reason="OUT_OF_RANGE")
            placeholder = tuple(f"c{i}" for i in range(q.seats))
            q.question(placeholder)
        else:
            q.question()
        checked.append(q)
    spec = ElectionSpec(
        texts=texts, questions=tuple(checked), window=window, roll_cutoff=cutoff,
        allow_revote=allow_revote, max_proxies_held=max_proxies_held,
        nominations_open=nominations_open, nominations_close=nominations_close,
        max_permanent_staff_seats=max_permanent_staff_seats,
        encryption=None if encryption is None else check_encryption(encryption),
    )
    return spec


def definition(election_id: str, spec: ElectionSpec, seed: str, roll_weight: int,
               candidacies: dict[str, list[str]] | None = None) -> ElectionDefinition:
    """The counting definition: questions with their final candidate lists."""
    candidacies = candidacies or {}
    return ElectionDefinition(
        id=election_id,
        questions=tuple(q.question(candidacies.get(q.question_id, ())) for q in spec.questions),
        tie_break_seed=seed,
        roll_weight=max(roll_weight, 1),
    )


def mandate_dates(assembly_day: date, years: int) -> tuple[date, date]:
    """A mandate runs from the Assembly day to the same day ``years`` later (28 Feb for 29 Feb)."""
    try:
        end = assembly_day.replace(year=assembly_day.year + years)
    except ValueError:
        end = assembly_day.replace(year=assembly_day.year + years, day=28)
    return assembly_day, end


__all__ = ["ElectionSpec", "EncryptionSpec", "QuestionSpec", "check_encryption", "Text", "check_id", "definition", "make_spec",
           "mandate_dates"]
