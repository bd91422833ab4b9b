"""`coop board questions ...`: management's and the secretary's work on members' questions to the
General Assembly, over the board's gRPC api.

    coop board questions list --assembly ID [--order most-supported|newest]
                              [--filter all|unanswered|answered] [--json]
    coop board questions show QUESTION_ID [--json]
    coop board questions answer QUESTION_ID --mode writing --fr TEXT --nl TEXT --en TEXT
    coop board questions answer QUESTION_ID --mode plenary [--fr NOTE --nl NOTE --en NOTE]
    coop board questions refer QUESTION_ID --title-fr T --title-nl T --title-en T

The token: COOP_TOKEN (management's or the secretary's, from the cooperative's identity
provider), or else a development token with the "admin" role for --tenant (only services in
development mode accept it). Address: --target or COOP_BOARD_ADDR (default 127.0.0.1:50054).
Exit status 0 on success, 1 when the service refuses, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json
import uuid
from collections.abc import Callable

from google.protobuf import json_format

from coop.board.v1 import common_pb2
from coop.board.v1 import questions_pb2 as pb
from coop.board.v1 import questions_pb2_grpc as pb_grpc
from coop_cli.rpc import add_connection_arguments, call_service, enum_word

Stub = pb_grpc.QuestionServiceStub
ORDERS = {"most-supported": pb.QUESTION_ORDER_MOST_SUPPORTED, "newest": pb.QUESTION_ORDER_NEWEST}
FILTERS = {"all": pb.QUESTION_FILTER_ALL, "unanswered": pb.QUESTION_FILTER_UNANSWERED,
           "answered": pb.QUESTION_FILTER_ANSWERED}
MODES = {"writing": pb.ANSWER_MODE_WRITING, "plenary": pb.ANSWER_MODE_PLENARY}


def _run(args: argparse.Namespace, command: Callable[[Stub, list[tuple[str, str]], argparse.Namespace], int]) -> int:
    return call_service(args, Stub, command)


def _line(q: pb.Question) -> str:
    status = enum_word(pb.QuestionStatus, q.status, "QUESTION_STATUS_")
    referred = " referred" if q.referred else ""
    author = q.author_member_id or "(anonymous)"
    first_line = q.text.splitlines()[0] if q.text else ""
    return f"{q.support_count:>6}  {status:<20} {q.language}  {author:<20} {q.question_id}{referred}\n        {first_line}"


def list_questions(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    token, rows = "", []
    while True:
        page = stub.ListQuestions(pb.ListQuestionsRequest(
            assembly_id=args.assembly, order=ORDERS[args.order], filter=FILTERS[args.filter], page_size=500,
            page_token=token), metadata=md, timeout=30)
        rows.extend(page.questions)
        token = page.next_page_token
        if not token:
            break
    if args.json:
        print(json.dumps([json_format.MessageToDict(q) for q in rows], indent=2, ensure_ascii=False))
        return 0
    print(f"{len(rows)} question(s) to assembly {args.assembly}")
    for q in rows:
        print(_line(q))
    return 0


def show(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    q = stub.GetQuestion(pb.GetQuestionRequest(question_id=args.question_id), metadata=md, timeout=30).question
    if args.json:
        print(json.dumps(json_format.MessageToDict(q), indent=2, ensure_ascii=False))
        return 0
    print(_line(q))
    print(q.text)
    for lang in ("fr", "nl", "en"):
        if getattr(q.answer, lang):
            print(f"answer ({lang}): {getattr(q.answer, lang)}")
    return 0


def answer(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    text = common_pb2.LocalizedText(fr=args.fr, nl=args.nl, en=args.en)
    q = stub.AnswerQuestion(pb.AnswerQuestionRequest(question_id=args.question_id, mode=MODES[args.mode],
                                                     answer=text, request_id=str(uuid.uuid4())),
                            metadata=md, timeout=30).question
    print(_line(q))
    return 0


def refer(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    title = common_pb2.LocalizedText(fr=args.title_fr, nl=args.title_nl, en=args.title_en)
    q = stub.ReferQuestionToBoard(pb.ReferQuestionToBoardRequest(question_id=args.question_id, title=title,
                                                                 request_id=str(uuid.uuid4())),
                                  metadata=md, timeout=30).question
    print(_line(q))
    print(f"agenda item {q.referral_item_id}" if q.referral_item_id else "waiting for the next meeting's agenda")
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add `coop board questions <verb>`."""
    common = argparse.ArgumentParser(add_help=False)
    add_connection_arguments(common, "board")
    parser = commands.add_parser("questions", help="members' questions to the General Assembly: list, answer, refer",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = parser.add_subparsers(dest="questions_command", required=True)

    def verb(name: str, helptext: str, run: Callable[..., int]) -> argparse.ArgumentParser:
        p = verbs.add_parser(name, help=helptext, description=helptext, parents=[common])
        p.set_defaults(func=lambda args: _run(args, run))
        return p

    p = verb("list", "an Assembly's questions, most supported first (or newest)", list_questions)
    p.add_argument("--assembly", required=True, help="assembly id")
    p.add_argument("--order", choices=sorted(ORDERS), default="most-supported")
    p.add_argument("--filter", choices=sorted(FILTERS), default="all")
    p.add_argument("--json", action="store_true", help="the questions as JSON")
    p = verb("show", "one question with its answer", show)
    p.add_argument("question_id")
    p.add_argument("--json", action="store_true", help="the question as JSON")
    p = verb("answer", "answer in writing (three languages) or mark answered in the plenary (optional note)", answer)
    p.add_argument("question_id")
    p.add_argument("--mode", choices=sorted(MODES), required=True)
    for lang in ("fr", "nl", "en"):
        p.add_argument(f"--{lang}", default="", help=f"the answer or note in {lang}")
    p = verb("refer", "refer the question to the board as a member concern (an agenda item)", refer)
    p.add_argument("question_id")
    for lang in ("fr", "nl", "en"):
        p.add_argument(f"--title-{lang}", required=True, help=f"the agenda item's title in {lang}")
