"""The dossiers api on PostgreSQL through gRPC: the COVID envelope sent back and revised, versions
kept and compared, amendments (two levels, never on an adopted proposal), retries answered once,
documents checked on download. The meetings family's votes are played through the hooks."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date

import grpc
import pytest
from board_dossiers_helpers import (
    DIRECTOR_2,
    ROLES,
    counts,
    create,
    events,
    five_keys,
    in_meeting,
    lt,
    sitting_directors,  # noqa: F401 - autouse: dir-1 and dir-2 sit
    stub,
    submit_v1,
)

from coop.board.v1 import dossiers_pb2 as pb
from coop_board.adapters.messages_dossiers import text_from_pb
from coop_board.entrypoints.grpc_dossiers import documents_dir
from coop_board.service_layer import dossier_hooks as hooks
from coop_platform.rich_status import details_of

pytestmark = pytest.mark.postgres
MGR, DIR = ROLES["management"], ROLES["director"]


@pytest.fixture(autouse=True)
def _documents(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COOP_BOARD_DOCUMENTS_DIR", str(tmp_path / "documents"))


def refused(call, *args, **kwargs):
    with pytest.raises(grpc.RpcError) as e:
        call(*args, timeout=10, **kwargs)
    return details_of(e.value)


def test_covid_envelope_rejected_as_a_whole_sent_back_and_revised_in_version_two(env) -> None:
    v1 = submit_v1(env)
    dossier_id = v1.dossier.dossier_id
    assert v1.dossier.status == pb.DOSSIER_STATUS_SUBMITTED and v1.version.version == 1
    assert [p.recommended for p in v1.version.proposals] == [False, True, False, True, False]
    assert v1.version.proposals[1].recommendation_rationale.nl.startswith("Fair")
    submitted = events(env, "dossier.submitted", dossier_id)
    assert len(submitted) == 1 and submitted[0]["data"]["proposalCount"] == 5
    assert submitted[0]["data"]["recommendedCount"] == 2

    # the meetings family: the board votes on none of them, rejects all and sends the dossier back
    refs = in_meeting(env, lambda uow: hooks.proposals_for_vote(uow, "coop", dossier_id, 1))
    assert [r.subject_id for r in refs] == [p.proposal_id for p in v1.version.proposals]
    in_meeting(env, lambda uow: hooks.send_back(
        uow, "coop", dossier_id, 1, text_from_pb(lt("Too complex; simulate each key")), date(2027, 4, 30),
        str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()), env.clock()))
    got = stub(env).GetDossier(pb.GetDossierRequest(dossier_id=dossier_id), metadata=MGR, timeout=10)
    assert got.dossier.status == pb.DOSSIER_STATUS_SENT_BACK
    assert (got.dossier.last_send_back.due_date.year, got.dossier.last_send_back.due_date.month) == (2027, 4)
    assert {p.status for p in got.version.proposals} == {pb.PROPOSAL_STATUS_REJECTED}
    sent = events(env, "dossier.sent_back", dossier_id)
    assert len(sent) == 1 and sent[0]["data"]["reasons"]["en"] == "Too complex; simulate each key"

    # version 2: key 2 revised, key 4 kept, a new key; a note of what changed and why
    old = v1.version.proposals
    keys = five_keys()
    revised = pb.ProposalInput(title=keys[1].title, text=lt("Redistribute 60% of the envelope per share.\n"
                                                            "Paid after the Assembly."),
                               recommended=True, recommendation_rationale=keys[1].recommendation_rationale,
                               revises_proposal_id=old[1].proposal_id)
    kept = pb.ProposalInput(title=keys[3].title, text=keys[3].text, recommended=True,
                            recommendation_rationale=keys[3].recommendation_rationale,
                            revises_proposal_id=old[3].proposal_id)
    new = pb.ProposalInput(title=lt("Key 6: simulated"), text=lt("Redistribute per simulated bill."))
    v2 = stub(env).SubmitDossierVersion(pb.SubmitDossierVersionRequest(
        dossier_id=dossier_id, proposals=[revised, kept, new], document_ids=[v1.version.documents[0].document_id],
        change_note=lt("Payment moved after the Assembly; three keys dropped as too complex")),
        metadata=MGR, timeout=10)
    assert v2.version.version == 2 and v2.dossier.status == pb.DOSSIER_STATUS_SUBMITTED
    assert events(env, "dossier.submitted", dossier_id)[-1]["data"]["dueDate"] == {"year": 2027, "month": 4,
                                                                                    "day": 30}
    first = stub(env).GetDossier(pb.GetDossierRequest(dossier_id=dossier_id, version=1), metadata=DIR, timeout=10)
    assert [p.text for p in first.version.proposals] == [p.text for p in old]
    listed = stub(env).ListDossierVersions(pb.ListDossierVersionsRequest(dossier_id=dossier_id, page_size=1),
                                           metadata=DIR, timeout=10)
    assert [v.version for v in listed.versions] == [1] and listed.next_page_token
    changes = stub(env).GetVersionChanges(pb.GetVersionChangesRequest(dossier_id=dossier_id, version=2),
                                          metadata=DIR, timeout=10)
    assert changes.change_note.en.startswith("Payment moved")
    assert changes.answers_send_back.reasons.en == "Too complex; simulate each key"
    kinds = sorted(pb.ProposalChangeKind.Name(c.kind) for c in changes.changes)
    assert kinds == ["PROPOSAL_CHANGE_KIND_DROPPED"] * 3 + ["PROPOSAL_CHANGE_KIND_NEW", "PROPOSAL_CHANGE_KIND_REVISED",
                                                            "PROPOSAL_CHANGE_KIND_UNCHANGED"]
    diff = next(c for c in changes.changes if c.kind == pb.PROPOSAL_CHANGE_KIND_REVISED).text_diff
    assert "-Paid before the Assembly. (fr)" in diff.fr and "+Paid after the Assembly. (fr)" in diff.fr

    # version 2 amended and one proposal adopted
    target = v2.version.proposals[0].proposal_id
    a1 = stub(env).ProposeAmendment(pb.ProposeAmendmentRequest(
        parent_id=target, text=lt("Redistribute 60% of the envelope per share.\nPaid in June.")),
        metadata=DIR, timeout=10).amendment
    assert a1.level == 1 and "+Paid in June." in a1.diff.en and a1.author_id == "dir-1"
    in_meeting(env, lambda uow: hooks.record_outcome(uow, "coop", a1.amendment_id, "adopted", "dec-a1", env.clock()))
    in_meeting(env, lambda uow: hooks.record_outcome(uow, "coop", target, "adopted", "dec-p", env.clock()))
    got = stub(env).GetDossier(pb.GetDossierRequest(dossier_id=dossier_id), metadata=ROLES["secretary"], timeout=10)
    assert got.dossier.status == pb.DOSSIER_STATUS_DECIDED
    assert got.version.proposals[0].text_to_vote.en.endswith("Paid in June.")
    assert got.version.proposals[0].text.en.endswith("Paid after the Assembly.")
    assert [a.status for a in got.amendments] == [pb.PROPOSAL_STATUS_ADOPTED]


def test_an_amendment_on_an_adopted_proposal_is_refused_naming_the_rule_and_writes_nothing(env) -> None:
    v1 = submit_v1(env)
    target = v1.version.proposals[0].proposal_id
    in_meeting(env, lambda uow: hooks.record_outcome(uow, "coop", target, "adopted", "dec", env.clock()))
    before = counts(env)
    error = refused(stub(env).ProposeAmendment, pb.ProposeAmendmentRequest(
        parent_id=target, text=lt("late"), request_id=str(uuid.uuid4())), metadata=DIR)
    assert error.code == grpc.StatusCode.FAILED_PRECONDITION
    assert error.reason == "AMENDED_SUBJECT_ADOPTED" and "parent_id" in error.field_violations
    assert counts(env) == before


def test_a_third_level_of_amendment_is_refused_naming_the_rule_and_writes_nothing(env) -> None:
    v1 = submit_v1(env)
    target = v1.version.proposals[2].proposal_id
    a1 = stub(env).ProposeAmendment(pb.ProposeAmendmentRequest(parent_id=target, text=lt("level one")),
                                    metadata=DIR, timeout=10).amendment
    a2 = stub(env).ProposeAmendment(pb.ProposeAmendmentRequest(parent_id=a1.amendment_id, text=lt("level two")),
                                    metadata=DIRECTOR_2, timeout=10).amendment
    assert (a2.level, a2.parent_id, a2.proposal_id) == (2, a1.amendment_id, target)
    before = counts(env)
    error = refused(stub(env).ProposeAmendment, pb.ProposeAmendmentRequest(
        parent_id=a2.amendment_id, text=lt("level three"), request_id=str(uuid.uuid4())), metadata=DIR)
    assert error.code == grpc.StatusCode.FAILED_PRECONDITION and error.reason == "AMENDMENT_TOO_DEEP"
    assert "parent_id" in error.field_violations and error.metadata.get("max_level") == "2"
    assert counts(env) == before
    listed = stub(env).ListAmendments(pb.ListAmendmentsRequest(dossier_id=v1.dossier.dossier_id, proposal_id=target),
                                      metadata=ROLES["admin"], timeout=10)
    assert [a.level for a in listed.amendments] == [1, 2]
    refs = in_meeting(env, lambda uow: hooks.proposals_for_vote(uow, "coop", v1.dossier.dossier_id, 1))
    order = [r.subject_id for r in refs]
    assert order.index(a2.amendment_id) < order.index(a1.amendment_id) < order.index(target)


def test_a_retry_with_the_same_request_id_answers_the_first_result_and_writes_once(env) -> None:
    dossier = create(env)
    request = pb.SubmitDossierVersionRequest(dossier_id=dossier.dossier_id, proposals=five_keys(),
                                             documents=[pb.DocumentUpload(filename="a.pdf", content=b"%PDF a")],
                                             request_id=str(uuid.uuid4()))
    first = stub(env).SubmitDossierVersion(request, metadata=MGR, timeout=10)
    before = counts(env)
    again = stub(env).SubmitDossierVersion(request, metadata=MGR, timeout=10)
    assert again == first and counts(env) == before
    create_request = pb.CreateDossierRequest(title=lt("Budget 2028"), request_id=str(uuid.uuid4()))
    made = stub(env).CreateDossier(create_request, metadata=MGR, timeout=10)
    before = counts(env)
    assert stub(env).CreateDossier(create_request, metadata=MGR, timeout=10) == made and counts(env) == before
    amend = pb.ProposeAmendmentRequest(parent_id=first.version.proposals[0].proposal_id, text=lt("x"),
                                       request_id=str(uuid.uuid4()))
    a = stub(env).ProposeAmendment(amend, metadata=DIR, timeout=10)
    assert stub(env).ProposeAmendment(amend, metadata=DIR, timeout=10) == a
    other = pb.ProposeAmendmentRequest(parent_id=amend.parent_id, text=lt("y"), request_id=amend.request_id)
    assert refused(stub(env).ProposeAmendment, other, metadata=DIR).code == grpc.StatusCode.FAILED_PRECONDITION


def test_a_document_whose_stored_file_was_tampered_with_is_refused_on_download(env) -> None:
    content = f"%PDF board pack {uuid.uuid4()}".encode()
    v1 = submit_v1(env, content=content)
    doc = v1.version.documents[0]
    assert doc.sha256 == hashlib.sha256(content).hexdigest() and doc.size_bytes == len(content)
    parts = list(stub(env).GetDocument(pb.GetDocumentRequest(document_id=doc.document_id), metadata=DIR, timeout=10))
    assert parts[0].document.document_id == doc.document_id and b"".join(p.chunk for p in parts) == content
    path = documents_dir() / doc.sha256[:2] / doc.sha256
    path.write_bytes(content.replace(b"board", b"BOARD"))
    error = refused(lambda *a, **k: list(stub(env).GetDocument(*a, **k)),
                    pb.GetDocumentRequest(document_id=doc.document_id), metadata=DIR)
    assert error.code == grpc.StatusCode.FAILED_PRECONDITION and error.reason == "DOCUMENT_HASH_MISMATCH"
    path.unlink()
    error = refused(lambda *a, **k: list(stub(env).GetDocument(*a, **k)),
                    pb.GetDocumentRequest(document_id=doc.document_id), metadata=DIR)
    assert error.reason == "DOCUMENT_FILE_MISSING"


def test_a_document_larger_than_a_request_is_streamed_up_and_down(env) -> None:
    dossier = create(env)
    content = bytes(range(256)) * (6 * 1024) + uuid.uuid4().bytes  # ~1.5 MiB: over the unary limit
    big = pb.AddDocumentRequest(dossier_id=dossier.dossier_id,
                                document=pb.DocumentUpload(filename="annex.bin", content=content))
    assert refused(stub(env).AddDocument, big, metadata=MGR).code == grpc.StatusCode.RESOURCE_EXHAUSTED
    chunks = [content[i:i + 512 * 1024] for i in range(0, len(content), 512 * 1024)]
    messages = [pb.UploadDocumentRequest(dossier_id=dossier.dossier_id, filename="annex.bin",
                                         media_type="application/octet-stream", chunk=chunks[0])]
    messages += [pb.UploadDocumentRequest(chunk=c) for c in chunks[1:]]
    doc = stub(env).UploadDocument(iter(messages), metadata=MGR, timeout=10).document
    assert doc.size_bytes == len(content) and doc.sha256 == hashlib.sha256(content).hexdigest()
    parts = list(stub(env).GetDocument(pb.GetDocumentRequest(document_id=doc.document_id), metadata=MGR, timeout=10))
    assert len(parts) == 2 and b"".join(p.chunk for p in parts) == content


def test_bad_submissions_name_the_field_and_write_nothing(env) -> None:
    dossier = create(env)
    cases = [
        (pb.SubmitDossierVersionRequest(dossier_id=dossier.dossier_id, proposals=five_keys()[:1]),
         "proposals", "PROPOSAL_COUNT"),
        (pb.SubmitDossierVersionRequest(dossier_id=dossier.dossier_id, proposals=[
            five_keys()[0], pb.ProposalInput(title=lt("t"), text=lt("x"), recommended=True)]),
         "proposals[1].recommendation_rationale.fr", "TEXT_LANGUAGE_MISSING"),
        (pb.SubmitDossierVersionRequest(dossier_id=dossier.dossier_id, proposals=five_keys(),
                                        documents=[pb.DocumentUpload(filename="../x", content=b"x")]),
         "documents[0].filename", "INVALID_FILENAME"),
        (pb.SubmitDossierVersionRequest(dossier_id=dossier.dossier_id, proposals=five_keys(),
                                        document_ids=[str(uuid.uuid4())]), "document_ids[0]", "DOCUMENT_NOT_FOUND"),
        (pb.SubmitDossierVersionRequest(dossier_id=str(uuid.uuid4()), proposals=five_keys()),
         "dossier_id", "DOSSIER_NOT_FOUND"),
        (pb.SubmitDossierVersionRequest(dossier_id=dossier.dossier_id, proposals=five_keys(), request_id="nope"),
         "request_id", None),
    ]
    for request, field, reason in cases:
        before = counts(env)
        error = refused(stub(env).SubmitDossierVersion, request, metadata=MGR)
        assert error.code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND), error
        assert field in error.field_violations, (field, error)
        assert reason is None or error.reason == reason, (reason, error)
        assert counts(env) == before


def test_list_dossiers_pages_and_filters_by_status(env) -> None:
    made = [create(env, f"Topic {n}").dossier_id for n in range(3)]
    seen, token = [], ""
    while True:
        page = stub(env).ListDossiers(pb.ListDossiersRequest(status=pb.DOSSIER_STATUS_DRAFT, page_size=2,
                                                             page_token=token), metadata=ROLES["admin"], timeout=10)
        assert all(d.status == pb.DOSSIER_STATUS_DRAFT for d in page.dossiers)
        seen += [d.dossier_id for d in page.dossiers]
        token = page.next_page_token
        if not token:
            break
    assert set(made) <= set(seen) and len(seen) == len(set(seen))
    error = refused(stub(env).ListDossiers, pb.ListDossiersRequest(page_token="garbage"), metadata=DIR)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT and error.reason == "INVALID_PAGE_TOKEN"


def test_concurrent_amendments_and_concurrent_retries_of_one_submission(env) -> None:
    from concurrent.futures import ThreadPoolExecutor

    v1 = submit_v1(env)
    target = v1.version.proposals[4].proposal_id

    def amend(n: int) -> str:
        return stub(env).ProposeAmendment(pb.ProposeAmendmentRequest(parent_id=target, text=lt(f"variant {n}")),
                                          metadata=DIR, timeout=30).amendment.amendment_id

    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(amend, range(8)))
    listed = stub(env).ListAmendments(pb.ListAmendmentsRequest(dossier_id=v1.dossier.dossier_id, proposal_id=target),
                                      metadata=DIR, timeout=10).amendments
    assert sorted(a.amendment_id for a in listed) == sorted(made) and len(set(made)) == 8

    dossier = create(env)
    request = pb.SubmitDossierVersionRequest(dossier_id=dossier.dossier_id, proposals=five_keys(),
                                             request_id=str(uuid.uuid4()))
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: stub(env).SubmitDossierVersion(request, metadata=MGR, timeout=30), range(6)))
    assert all(a == answers[0] for a in answers)
    assert len(events(env, "dossier.submitted", dossier.dossier_id)) == 1
    versions = stub(env).ListDossierVersions(pb.ListDossierVersionsRequest(dossier_id=dossier.dossier_id),
                                             metadata=MGR, timeout=10).versions
    assert [v.version for v in versions] == [1]
