"""Random bad input to the dossiers api: never UNKNOWN or INTERNAL, and a refused call writes
nothing. Also the migration: 0004 goes down and up again on a scratch database."""

from __future__ import annotations

import uuid

import grpc
import pytest
from board_dossiers_helpers import ROLES, counts, create, lt, sitting_directors, stub, submit_v1  # noqa: F401
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, inspect

from coop.board.v1 import common_pb2
from coop.board.v1 import dossiers_pb2 as pb
from coop_platform.migrations import downgrade, upgrade
from coop_testkit import postgres_database

pytestmark = pytest.mark.postgres
SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
BUGS = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL}
junk = st.text(max_size=40) | st.sampled_from(["", " ", "\x00", "a" * 300, "../etc/passwd", "fr", str(uuid.uuid4())])
texts = st.builds(common_pb2.LocalizedText, fr=junk, nl=junk, en=junk) | st.just(lt("fine"))
ids = junk | st.just("")


@pytest.fixture(scope="module")
def target(env, tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COOP_BOARD_DOCUMENTS_DIR", str(tmp_path_factory.mktemp("documents")))
        v1 = submit_v1(env)
        yield v1


def check(env, call) -> None:
    before = counts(env)
    try:
        call()
    except grpc.RpcError as exc:
        assert exc.code() not in BUGS, exc.details()
        assert counts(env) == before, f"a refused call ({exc.code()}) wrote something"


def test_submit_with_random_fields_never_fails_as_a_bug(env, target) -> None:
    v1 = target
    dossier_ids = st.sampled_from(["draft", "draft", v1.dossier.dossier_id]) | ids
    proposals = st.lists(st.builds(pb.ProposalInput, title=texts, text=texts, recommended=st.booleans(),
                                   recommendation_rationale=texts, revises_proposal_id=ids), max_size=4)
    uploads = st.lists(st.builds(pb.DocumentUpload, filename=junk, media_type=junk, content=st.binary(max_size=64)),
                       max_size=2)

    @SETTINGS
    @given(st.builds(pb.SubmitDossierVersionRequest, dossier_id=dossier_ids, proposals=proposals, documents=uploads,
                     document_ids=st.lists(ids, max_size=2), change_note=texts, request_id=ids))
    def run(request):
        if request.dossier_id == "draft":  # a fresh draft: the proposals' and documents' checks are reached
            request.dossier_id = create(env, "Draft").dossier_id
        check(env, lambda: stub(env).SubmitDossierVersion(request, metadata=ROLES["management"], timeout=10))
    run()


def test_amendments_and_documents_with_random_fields_never_fail_as_a_bug(env, target) -> None:
    v1 = target
    subjects = st.sampled_from([p.proposal_id for p in v1.version.proposals]) | ids

    @SETTINGS
    @given(st.builds(pb.ProposeAmendmentRequest, parent_id=subjects, text=texts, request_id=ids),
           st.builds(pb.WithdrawAmendmentRequest, amendment_id=subjects, request_id=ids),
           st.builds(pb.AddDocumentRequest, dossier_id=st.just(v1.dossier.dossier_id) | ids,
                     document=st.builds(pb.DocumentUpload, filename=junk, media_type=junk,
                                        content=st.binary(max_size=32)), request_id=ids),
           st.builds(pb.ListAmendmentsRequest, dossier_id=st.just(v1.dossier.dossier_id) | ids,
                     version=st.integers(-5, 5), proposal_id=ids, page_size=st.integers(-5, 5), page_token=junk))
    def run(amend, withdraw, add, listing):
        check(env, lambda: stub(env).ProposeAmendment(amend, metadata=ROLES["director"], timeout=10))
        check(env, lambda: stub(env).WithdrawAmendment(withdraw, metadata=ROLES["director"], timeout=10))
        check(env, lambda: stub(env).AddDocument(add, metadata=ROLES["management"], timeout=10))
        check(env, lambda: stub(env).ListAmendments(listing, metadata=ROLES["secretary"], timeout=10))
    run()


def test_reads_with_random_fields_never_fail_as_a_bug(env, target) -> None:
    v1 = target

    @SETTINGS
    @given(ids | st.just(v1.dossier.dossier_id), st.integers(-3, 5), junk, st.integers(-3, 1200))
    def run(dossier_id, version, token, size):
        for call in (
            lambda: stub(env).GetDossier(pb.GetDossierRequest(dossier_id=dossier_id, version=version),
                                         metadata=ROLES["admin"], timeout=10),
            lambda: stub(env).GetVersionChanges(pb.GetVersionChangesRequest(dossier_id=dossier_id, version=version),
                                                metadata=ROLES["admin"], timeout=10),
            lambda: stub(env).ListDossierVersions(pb.ListDossierVersionsRequest(
                dossier_id=dossier_id, page_size=size, page_token=token), metadata=ROLES["admin"], timeout=10),
            lambda: stub(env).ListDossiers(pb.ListDossiersRequest(status=version, page_size=size, page_token=token),
                                           metadata=ROLES["admin"], timeout=10),
            lambda: list(stub(env).GetDocument(pb.GetDocumentRequest(document_id=dossier_id),
                                               metadata=ROLES["admin"], timeout=10)),
        ):
            check(env, call)
    run()


def test_the_dossiers_migration_goes_down_and_up_again() -> None:
    with postgres_database("coop_board_dossiers_migration") as url:
        upgrade("board", url)
        downgrade("board", url, "0001")
        engine = create_engine(url)
        try:
            assert not [t for t in inspect(engine).get_table_names() if t.startswith("board_dossier")]
            upgrade("board", url)
            assert "board_dossier_amendments" in inspect(engine).get_table_names()
        finally:
            engine.dispose()
