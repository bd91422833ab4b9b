"""Members' questions to the General Assembly (docs/board.md, Questions to the General Assembly).

Rules held here, whatever the storage:
- a question is written in one language (fr, nl or en), trimmed, 1 to `max_chars` characters;
- questions are submitted, supported and withdrawn only before the Assembly is held (not once it
  has started, been held or cancelled);
- a member supports a question at most once at a time, and never their own (the author's own
  question is not a vote for themself: supports measure other members' interest);
- a question is answered once: in writing (the answer in three languages) or during the plenary
  (an optional note, in three languages when given); unanswered, it stays listed as such;
- a question is referred to the board once;
- its author is shown to other readers only if they chose so; the author always sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from coop_board.domain.links import AssemblySummary
from coop_board.domain.texts import LANGUAGES, LocalizedText
from coop_domain.errors import FailedPrecondition, InvalidArgument

UNANSWERED, IN_WRITING, IN_PLENARY = "unanswered", "in_writing", "in_plenary"
STATUSES = (UNANSWERED, IN_WRITING, IN_PLENARY)
WRITING, PLENARY = "writing", "plenary"  # answer modes

MOST_SUPPORTED, NEWEST = "most_supported", "newest"
ALL, ANSWERED = "all", "answered"  # filters (with UNANSWERED)

GOOD_STANDING, ANY_MEMBER = "good_standing", "members"  # who may submit and support


@dataclass(frozen=True)
class QuestionRules:
    """The family's settings (entrypoints/settings_questions.py)."""

    max_chars: int = 2000
    open_to: str = GOOD_STANDING


@dataclass(frozen=True)
class Question:
    question_id: str
    tenant: str
    assembly_id: str
    author_id: str
    language: str
    text: str
    author_public: bool
    submitted_at: datetime
    support_count: int = 0
    status: str = UNANSWERED
    answer: LocalizedText = LocalizedText()
    answered_at: datetime | None = None
    answered_by: str | None = None
    referred_at: datetime | None = None
    referred_by: str | None = None
    referral_item_id: str | None = None

    @property
    def answered(self) -> bool:
        return self.status != UNANSWERED

    @property
    def referred(self) -> bool:
        return self.referred_at is not None

    def author_for(self, reader_id: str) -> str | None:
        """The author's id as `reader_id` may see it: only when public, or for the author."""
        return self.author_id if self.author_public or reader_id == self.author_id else None

    def answer_with(self, mode: str, text: LocalizedText, by: str, at: datetime) -> Question:
        if self.answered:
            raise FailedPrecondition("the question is already answered", field="question_id",
                                     reason="ALREADY_ANSWERED", status=self.status)
        check_answer(mode, text)
        return replace(self, status=IN_WRITING if mode == WRITING else IN_PLENARY,
                       answer=_trimmed(text), answered_at=at, answered_by=by)

    def refer(self, item_id: str | None, by: str, at: datetime) -> Question:
        self.check_referable()
        return replace(self, referred_at=at, referred_by=by, referral_item_id=item_id)

    def check_referable(self) -> None:
        if self.referred:
            raise FailedPrecondition("the question is already referred to the board", field="question_id",
                                     reason="ALREADY_REFERRED", item_id=self.referral_item_id or "")

    def check_supportable_by(self, member_id: str) -> None:
        if member_id == self.author_id:
            raise FailedPrecondition("a member does not support their own question", field="question_id",
                                     reason="OWN_QUESTION")


def new_question(question_id: str, tenant: str, assembly_id: str, author_id: str, language: str, text: str,
                 author_public: bool, at: datetime, max_chars: int) -> Question:
    check_language(language)
    return Question(question_id, tenant, assembly_id, author_id, language, check_text(text, max_chars),
                    author_public, at)


def check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise InvalidArgument("language is one of fr, nl, en (the language the question is written in)",
                              field="language", reason="LANGUAGE_UNKNOWN")


def check_text(text: str, max_chars: int) -> str:
    """The trimmed text; INVALID_ARGUMENT TEXT_EMPTY or TEXT_TOO_LONG (counted after trimming)."""
    trimmed = text.strip()
    if not trimmed:
        raise InvalidArgument("the question's text is empty", field="text", reason="TEXT_EMPTY")
    if len(trimmed) > max_chars:
        raise InvalidArgument(f"the question is longer than {max_chars} characters ({len(trimmed)})", field="text",
                              reason="TEXT_TOO_LONG", max_chars=max_chars, chars=len(trimmed))
    return trimmed


def check_three_languages(text: LocalizedText, field: str, *, optional: bool, max_chars: int = 100_000) -> None:
    """Complete in fr, nl and en (or, when `optional`, entirely empty): INVALID_ARGUMENT
    TRANSLATION_MISSING naming the first missing language (`answer.nl`)."""
    missing = text.missing()
    if missing and not (optional and text.empty):
        raise InvalidArgument(f"{field} needs French, Dutch and English: {', '.join(missing)} missing",
                              field=f"{field}.{missing[0]}", reason="TRANSLATION_MISSING",
                              missing=",".join(missing))
    for lang in LANGUAGES:
        if len(text.get(lang)) > max_chars:
            raise InvalidArgument(f"{field} is longer than {max_chars} characters", field=f"{field}.{lang}",
                                  reason="TEXT_TOO_LONG", max_chars=max_chars)


def check_answer(mode: str, text: LocalizedText) -> None:
    if mode not in (WRITING, PLENARY):
        raise InvalidArgument("mode is writing or plenary", field="mode", reason="ANSWER_MODE_REQUIRED")
    check_three_languages(text, "answer", optional=mode == PLENARY)


def _trimmed(text: LocalizedText) -> LocalizedText:
    return LocalizedText(fr=text.fr.strip(), nl=text.nl.strip(), en=text.en.strip())


def check_open_for_questions(assembly: AssemblySummary, now: datetime) -> None:
    """Questions in advance: before the Assembly starts, and neither held nor cancelled."""
    if assembly.status == "cancelled":
        raise FailedPrecondition("the General Assembly was cancelled", field="assembly_id",
                                 reason="ASSEMBLY_CANCELLED")
    if assembly.status == "held" or now >= assembly.starts_at:
        raise FailedPrecondition("the General Assembly has started or been held: questions in advance are closed",
                                 field="assembly_id", reason="ASSEMBLY_HELD",
                                 starts_at=assembly.starts_at.isoformat())


def check_may_take_part(open_to: str, in_good_standing: bool | None) -> None:
    """`in_good_standing`: the members projection's flag (None: membership never told the board)."""
    if open_to == GOOD_STANDING and not in_good_standing:
        raise FailedPrecondition("only members in good standing submit and support questions",
                                 reason="NOT_IN_GOOD_STANDING")


# -- events ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QuestionAnswered:
    tenant: str
    question_id: str
    assembly_id: str
    author_id: str
    mode: str          # WRITING or PLENARY
    answered_at: datetime


@dataclass(frozen=True)
class QuestionReferred:
    tenant: str
    question_id: str
    assembly_id: str
    author_id: str
    item_id: str | None  # None: waits for the next meeting to be scheduled
    referred_at: datetime
