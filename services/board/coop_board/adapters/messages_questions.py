"""Questions' views <-> coop.board.v1 messages (proto/coop/board/v1/questions.proto)."""

from __future__ import annotations

from coop.board.v1 import questions_pb2 as pb
from coop_board.adapters.messages_dossiers import text_to_pb
from coop_board.domain.questions import (
    ALL,
    ANSWERED,
    IN_PLENARY,
    IN_WRITING,
    MOST_SUPPORTED,
    NEWEST,
    PLENARY,
    UNANSWERED,
    WRITING,
)
from coop_board.service_layer.questions import QuestionView
from coop_platform.pbtypes import to_timestamp

STATUS = {UNANSWERED: pb.QUESTION_STATUS_UNANSWERED, IN_WRITING: pb.QUESTION_STATUS_ANSWERED_IN_WRITING,
          IN_PLENARY: pb.QUESTION_STATUS_ANSWERED_IN_PLENARY}
MODE = {pb.ANSWER_MODE_WRITING: WRITING, pb.ANSWER_MODE_PLENARY: PLENARY}
ORDER = {pb.QUESTION_ORDER_UNSPECIFIED: MOST_SUPPORTED, pb.QUESTION_ORDER_MOST_SUPPORTED: MOST_SUPPORTED,
         pb.QUESTION_ORDER_NEWEST: NEWEST}
FILTER = {pb.QUESTION_FILTER_UNSPECIFIED: ALL, pb.QUESTION_FILTER_ALL: ALL,
          pb.QUESTION_FILTER_UNANSWERED: UNANSWERED, pb.QUESTION_FILTER_ANSWERED: ANSWERED}


def question_to_pb(v: QuestionView) -> pb.Question:
    q = v.question
    return pb.Question(
        question_id=q.question_id, assembly_id=q.assembly_id, language=q.language, text=q.text,
        author_public=q.author_public, author_member_id=v.author_id or "", mine=v.mine,
        support_count=v.support_count, supported_by_me=v.supported_by_me, submitted_at=to_timestamp(q.submitted_at),
        status=STATUS[q.status], answer=text_to_pb(q.answer), answered_at=to_timestamp(q.answered_at),
        referred=q.referred, referral_item_id=q.referral_item_id or "", referred_at=to_timestamp(q.referred_at))
