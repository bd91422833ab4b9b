"""MinutesService on PostgreSQL through gRPC: the whole path from a meeting's record to members
reading the published minutes, retries, the bad input that is the minutes' (editing approved
minutes, publishing with a language missing) with nothing half-written, and closed items never
reaching a member, a rendering, a search or the minutes.published event."""

from __future__ import annotations

import json
import logging
import uuid

import grpc
from board_fakes_minutes import SECRET, pdf_text
from board_minutes_svc_helpers import ROLES, refused, world  # noqa: F401
from google.protobuf.field_mask_pb2 import FieldMask
from sqlalchemy import text

from coop.board.v1 import common_pb2
from coop.board.v1 import minutes_pb2 as pb
from coop_platform.rich_status import details_of

SEC, MEMBER = ROLES["secretary"], ROLES["member"]


def count(env, sql: str, **params) -> int:
    with env.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def test_from_the_record_to_members_reading_published_minutes(world) -> None:  # noqa: F811
    stub, env = world.stub, world.env
    meeting = world.meeting(items=4)
    request_id = str(uuid.uuid4())
    first = stub.DraftMinutes(pb.DraftMinutesRequest(meeting_id=meeting, request_id=request_id), metadata=SEC)
    again = stub.DraftMinutes(pb.DraftMinutesRequest(meeting_id=meeting, request_id=request_id), metadata=SEC)
    assert first == again and first.minutes.status == pb.MINUTES_STATUS_DRAFT
    minutes_id = first.minutes.minutes_id
    assert count(env, "SELECT count(*) FROM board_minutes WHERE meeting_id = :m", m=meeting) == 1

    edited = stub.UpdateMinutes(pb.UpdateMinutesRequest(
        minutes=pb.Minutes(minutes_id=minutes_id, sections=[pb.MinutesSection(
            section_id="attendance", body=common_pb2.LocalizedText(fr="Tous présents"))]),
        update_mask=FieldMask(paths=["sections.fr"])), metadata=SEC).minutes
    assert edited.sections[0].body.fr == "Tous présents" and edited.revision == 2
    submit = pb.SubmitMinutesForApprovalRequest(minutes_id=minutes_id, request_id=str(uuid.uuid4()))
    submitted = stub.SubmitMinutesForApproval(submit, metadata=SEC).minutes
    assert stub.SubmitMinutesForApproval(submit, metadata=SEC).minutes == submitted  # a retry: one agenda item
    assert submitted.status == pb.MINUTES_STATUS_SUBMITTED and submitted.approval_item_id
    assert world.approval_items == [minutes_id]
    world.approve(minutes_id)

    publish_id = str(uuid.uuid4())
    published = stub.PublishMinutes(pb.PublishMinutesRequest(minutes_id=minutes_id, request_id=publish_id),
                                    metadata=SEC)
    assert stub.PublishMinutes(pb.PublishMinutesRequest(minutes_id=minutes_id, request_id=publish_id),
                               metadata=SEC) == published
    assert published.minutes.status == pb.MINUTES_STATUS_PUBLISHED
    events = count(env, "SELECT count(*) FROM outbox WHERE routing_key = 'minutes.published' AND body LIKE :m",
                   m=f"%{minutes_id}%")
    assert events == 1

    listed = stub.ListPublishedMinutes(pb.ListPublishedMinutesRequest(language="nl", query="topic 1"),
                                       metadata=MEMBER)
    mine = [m for m in listed.minutes if m.minutes_id == minutes_id]
    assert len(mine) == 1 and mine[0].language == "nl" and mine[0].sections[0].body == edited.sections[0].body.nl
    found = stub.SearchPublishedDecisions(pb.SearchPublishedDecisionsRequest(
        language="fr", query=f"{meeting}".lower()), metadata=MEMBER)
    assert found.decisions == []  # the search is in the texts, not the ids
    decision = stub.GetPublishedDecision(pb.GetPublishedDecisionRequest(
        decision_id=f"{meeting}-decision-1", language="en"), metadata=MEMBER).decision
    assert decision.adopted_text == "Adopted budget text 1 [en]" and decision.counts.in_favour == 5
    assert (decision.meeting_date.year, decision.meeting_date.month, decision.effective_date.month) == (2027, 2, 3)

    html = stub.RenderMinutes(pb.RenderMinutesRequest(minutes_id=minutes_id, language="fr",
                                                      format=pb.RENDER_FORMAT_HTML), metadata=MEMBER)
    assert html.content_type.startswith("text/html") and "Tous présents" in html.content.decode()
    pdf = stub.RenderMinutes(pb.RenderMinutesRequest(minutes_id=minutes_id, language="nl",
                                                     format=pb.RENDER_FORMAT_PDF), metadata=MEMBER)
    assert pdf.content.startswith(b"%PDF") and pdf.content_type == "application/pdf"


def test_a_closed_items_content_never_reaches_a_member_a_rendering_a_search_or_the_event(world, caplog) -> None:  # noqa: F811
    caplog.set_level(logging.DEBUG)
    stub, env = world.stub, world.env
    meeting = world.meeting(items=4)
    minutes_id = world.published(meeting).minutes_id
    for lang in ("fr", "nl", "en"):
        listed = stub.ListPublishedMinutes(pb.ListPublishedMinutesRequest(language=lang), metadata=MEMBER)
        assert SECRET not in str(listed)
        decisions = stub.SearchPublishedDecisions(pb.SearchPublishedDecisionsRequest(language=lang, page_size=100),
                                                  metadata=MEMBER)
        assert SECRET not in str(decisions)
        assert stub.SearchPublishedDecisions(pb.SearchPublishedDecisionsRequest(
            language=lang, query=SECRET.lower()), metadata=MEMBER).decisions == []
        closed = stub.GetPublishedDecision(pb.GetPublishedDecisionRequest(
            decision_id=f"{meeting}-decision-2", language=lang), metadata=MEMBER).decision
        assert closed.closed and closed.adopted_text == "" and not closed.HasField("counts")
        for fmt in (pb.RENDER_FORMAT_HTML, pb.RENDER_FORMAT_PDF):
            rendered = stub.RenderMinutes(pb.RenderMinutesRequest(minutes_id=minutes_id, language=lang, format=fmt),
                                          metadata=MEMBER).content
            shown = pdf_text(rendered) if fmt == pb.RENDER_FORMAT_PDF else rendered.decode()
            assert f"Adopted budget text 1 [{lang}]" in shown and f"Topic 2 [{lang}]" in shown  # the check can see
            assert SECRET not in shown
    with env.engine.connect() as conn:
        payloads = [json.dumps(r[0]) if not isinstance(r[0], str) else r[0] for r in conn.execute(
            text("SELECT body FROM outbox WHERE routing_key = 'minutes.published'"))]
        published_rows = conn.execute(text(
            "SELECT search || title FROM board_published_minutes UNION ALL "
            "SELECT search || title || adopted_text FROM board_published_decisions")).scalars().all()
    assert payloads and all(SECRET not in p for p in payloads)
    assert all(SECRET.lower() not in row.lower() for row in published_rows)
    # the board still reads the closed item in full
    full = stub.GetMinutes(pb.GetMinutesRequest(minutes_id=minutes_id), metadata=ROLES["director"]).minutes
    assert SECRET in full.sections[2].body.en
    assert caplog.records and all(SECRET not in r.getMessage() for r in caplog.records)


def test_editing_approved_minutes_is_refused_naming_the_rule_and_changes_nothing(world) -> None:  # noqa: F811
    stub = world.stub
    minutes_id = world.approved(world.meeting(items=2)).minutes_id
    before = stub.GetMinutes(pb.GetMinutesRequest(minutes_id=minutes_id), metadata=SEC).minutes
    error = refused(lambda: stub.UpdateMinutes(pb.UpdateMinutesRequest(
        minutes=pb.Minutes(minutes_id=minutes_id, title=common_pb2.LocalizedText(en="Rewritten")),
        update_mask=FieldMask(paths=["title.en"])), metadata=SEC))
    assert error.code == grpc.StatusCode.FAILED_PRECONDITION and error.reason == "MINUTES_APPROVED"
    assert "minutes.title.en" in error.field_violations
    after = stub.GetMinutes(pb.GetMinutesRequest(minutes_id=minutes_id), metadata=SEC).minutes
    assert after == before


def test_publishing_with_a_language_missing_names_it_and_writes_nothing(world) -> None:  # noqa: F811
    stub, env = world.stub, world.env
    minutes_id = world.approved(world.meeting(items=3, missing=("nl", "en"))).minutes_id
    outbox = count(env, "SELECT count(*) FROM outbox")
    error = refused(lambda: stub.PublishMinutes(pb.PublishMinutesRequest(
        minutes_id=minutes_id, request_id=str(uuid.uuid4())), metadata=SEC))
    assert error.code == grpc.StatusCode.FAILED_PRECONDITION and error.reason == "TRANSLATION_MISSING"
    assert error.metadata["missing_languages"] == "nl,en" and "minutes_id" in error.field_violations
    assert count(env, "SELECT count(*) FROM board_published_minutes WHERE minutes_id = :m", m=minutes_id) == 0
    assert count(env, "SELECT count(*) FROM outbox") == outbox
    assert stub.GetMinutes(pb.GetMinutesRequest(minutes_id=minutes_id), metadata=SEC).minutes.status == \
        pb.MINUTES_STATUS_APPROVED
    tasks = stub.ListTranslationTasks(pb.ListTranslationTasksRequest(page_size=1000), metadata=SEC).tasks
    [task] = [t for t in tasks if t.minutes_id == minutes_id]
    assert list(task.languages) == ["nl", "en"] and (task.due_date.month, task.due_date.day) == (3, 8)
    # the translations are added (approved text stays), then it publishes
    current = stub.GetMinutes(pb.GetMinutesRequest(minutes_id=minutes_id), metadata=SEC).minutes
    sections = [pb.MinutesSection(section_id=s.section_id, body=common_pb2.LocalizedText(nl="NL", en="EN"))
                for s in current.sections if not s.body.nl]
    decisions = [pb.MinutesDecision(decision_id=d.decision_id, adopted_text=common_pb2.LocalizedText(nl="NL", en="EN"))
                 for d in current.decisions if not d.closed]
    stub.UpdateMinutes(pb.UpdateMinutesRequest(
        minutes=pb.Minutes(minutes_id=minutes_id, sections=sections, decisions=decisions),
        update_mask=FieldMask(paths=["sections.nl", "sections.en", "decisions.nl", "decisions.en"])), metadata=SEC)
    published = stub.PublishMinutes(pb.PublishMinutesRequest(minutes_id=minutes_id), metadata=SEC).minutes
    assert published.status == pb.MINUTES_STATUS_PUBLISHED
    assert count(env, "SELECT count(*) FROM board_published_minutes WHERE minutes_id = :m", m=minutes_id) == 3


def test_bad_input_names_the_field(world) -> None:  # noqa: F811
    stub = world.stub
    minutes_id = world.draft(world.meeting(items=1)).minutes_id
    cases = [
        (lambda: stub.DraftMinutes(pb.DraftMinutesRequest(meeting_id=""), metadata=SEC), "meeting_id",
         grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: stub.DraftMinutes(pb.DraftMinutesRequest(meeting_id="nope"), metadata=SEC), "meeting_id",
         grpc.StatusCode.NOT_FOUND),
        (lambda: stub.UpdateMinutes(pb.UpdateMinutesRequest(minutes=pb.Minutes(minutes_id=minutes_id),
                                                            update_mask=FieldMask(paths=["status"])), metadata=SEC),
         "update_mask", grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: stub.UpdateMinutes(pb.UpdateMinutesRequest(
            minutes=pb.Minutes(minutes_id=minutes_id, sections=[pb.MinutesSection(section_id="x")]),
            update_mask=FieldMask(paths=["sections.en"])), metadata=SEC), "minutes.sections[0].body.en",
         grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: stub.UpdateMinutes(pb.UpdateMinutesRequest(minutes=pb.Minutes(), update_mask=FieldMask(
            paths=["title.fr"])), metadata=SEC), "minutes.minutes_id", grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: stub.PublishMinutes(pb.PublishMinutesRequest(minutes_id=minutes_id), metadata=SEC), "minutes_id",
         grpc.StatusCode.FAILED_PRECONDITION),
        (lambda: stub.CreateErratum(pb.CreateErratumRequest(minutes_id=minutes_id), metadata=SEC), "minutes_id",
         grpc.StatusCode.FAILED_PRECONDITION),
        (lambda: stub.SearchPublishedDecisions(pb.SearchPublishedDecisionsRequest(language="de"), metadata=MEMBER),
         "language", grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: stub.ListPublishedMinutes(pb.ListPublishedMinutesRequest(language="en", page_token="bad"),
                                           metadata=MEMBER), "page_token", grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: stub.RenderMinutes(pb.RenderMinutesRequest(minutes_id=minutes_id, language="en"), metadata=MEMBER),
         "format", grpc.StatusCode.INVALID_ARGUMENT),
    ]
    for call, field, code in cases:
        error = refused(call)
        assert (error.code, field in error.field_violations) == (code, True), (field, error)
        assert error.reason


def test_an_erratum_links_to_approved_minutes_and_is_published_like_them(world) -> None:  # noqa: F811
    stub = world.stub
    original = world.published(world.meeting(items=2)).minutes_id
    request = pb.CreateErratumRequest(minutes_id=original, correction=common_pb2.LocalizedText(
        fr="Lire 6 voix", nl="Lees 6 stemmen", en="Read 6 votes"), request_id=str(uuid.uuid4()))
    erratum = stub.CreateErratum(request, metadata=SEC).erratum
    assert stub.CreateErratum(request, metadata=SEC).erratum == erratum
    assert erratum.kind == pb.MINUTES_KIND_ERRATUM and erratum.erratum_of == original
    stub.SubmitMinutesForApproval(pb.SubmitMinutesForApprovalRequest(minutes_id=erratum.minutes_id), metadata=SEC)
    world.approve(erratum.minutes_id)
    stub.PublishMinutes(pb.PublishMinutesRequest(minutes_id=erratum.minutes_id), metadata=SEC)
    assert list(stub.GetMinutes(pb.GetMinutesRequest(minutes_id=original), metadata=SEC).minutes.errata_ids) == \
        [erratum.minutes_id]
    listed = stub.ListPublishedMinutes(pb.ListPublishedMinutesRequest(language="en", query="read 6 votes"),
                                       metadata=MEMBER).minutes
    assert [m.erratum_of for m in listed] == [original]


def test_members_page_through_published_decisions_by_date(world) -> None:  # noqa: F811
    stub = world.stub
    world.published(world.meeting(items=5, closed_every=0))
    seen, token = [], ""
    while True:
        page = stub.SearchPublishedDecisions(pb.SearchPublishedDecisionsRequest(
            language="en", page_size=2, page_token=token, query="decision on topic"), metadata=MEMBER)
        seen += [d.decision_id for d in page.decisions]
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)) and len(seen) >= 5
    none = stub.SearchPublishedDecisions(pb.SearchPublishedDecisionsRequest(
        language="en", from_date={"year": 2027, "month": 2, "day": 16}, to_date={"year": 2027, "month": 12, "day": 31}),
        metadata=MEMBER)
    assert none.decisions == []


def test_a_decision_not_yet_published_is_found_once_published(world) -> None:  # noqa: F811
    stub = world.stub
    meeting = world.meeting(items=1)
    request = pb.GetPublishedDecisionRequest(decision_id=f"{meeting}-decision-1", language="nl")
    assert refused(lambda: stub.GetPublishedDecision(request, metadata=MEMBER)).reason == "DECISION_NOT_FOUND"
    world.published(meeting)
    assert stub.GetPublishedDecision(request, metadata=MEMBER).decision.title == "Decision on topic 1 [nl]"
    assert refused(lambda: stub.GetPublishedDecision(request, metadata=ROLES["other"])).code == grpc.StatusCode.NOT_FOUND


def test_concurrent_publications_of_the_same_minutes_publish_once(world) -> None:  # noqa: F811
    from concurrent.futures import ThreadPoolExecutor

    stub, env = world.stub, world.env
    minutes_id = world.approved(world.meeting(items=2)).minutes_id

    def publish(_: int) -> str:
        try:
            stub.PublishMinutes(pb.PublishMinutesRequest(minutes_id=minutes_id, request_id=str(uuid.uuid4())),
                                metadata=SEC, timeout=20)
            return "OK"
        except grpc.RpcError as error:
            return details_of(error).reason

    with ThreadPoolExecutor(8) as pool:
        answers = sorted(pool.map(publish, range(8)))
    assert answers == ["ALREADY_PUBLISHED"] * 7 + ["OK"]
    assert count(env, "SELECT count(*) FROM board_published_minutes WHERE minutes_id = :m", m=minutes_id) == 3
    assert count(env, "SELECT count(*) FROM outbox WHERE routing_key = 'minutes.published' AND body LIKE :m",
                 m=f"%{minutes_id}%") == 1
