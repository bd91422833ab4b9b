"""The questions family's events on the board's translator (adapters/events_out.py): ids only
(the author's pseudonymous member id, to notify them), never a question's or answer's text."""

from __future__ import annotations

from typing import Any

from coop.board.v1 import events_pb2
from coop_board.adapters.events_out import translate
from coop_board.domain.questions import PLENARY, WRITING, QuestionAnswered, QuestionReferred
from coop_platform.pbtypes import to_timestamp

MODE = {WRITING: events_pb2.QUESTION_ANSWER_MODE_WRITING, PLENARY: events_pb2.QUESTION_ANSWER_MODE_PLENARY}


@translate.register
def _answered(e: QuestionAnswered) -> tuple[str, Any, str | None]:
    return "question.answered", events_pb2.QuestionAnswered(
        question_id=e.question_id, tenant=e.tenant, assembly_id=e.assembly_id, author_member_id=e.author_id,
        mode=MODE[e.mode], answered_at=to_timestamp(e.answered_at)), e.question_id


@translate.register
def _referred(e: QuestionReferred) -> tuple[str, Any, str | None]:
    return "question.referred", events_pb2.QuestionReferred(
        question_id=e.question_id, tenant=e.tenant, assembly_id=e.assembly_id, author_member_id=e.author_id,
        item_id=e.item_id or "", referred_at=to_timestamp(e.referred_at)), e.question_id
