"""Every DossierService RPC against every role: management creates, submits and adds documents;
directors, the secretary, management and admin read; only directors amend; members are refused
(they read decisions in published minutes); another tenant's admin finds nothing."""

from __future__ import annotations

import uuid

import grpc
import pytest
from board_dossiers_helpers import ROLES, create, five_keys, lt, sitting_directors, stub, submit_v1  # noqa: F401

import coop_testkit
from coop.board.v1 import dossiers_pb2 as pb
from coop_platform.rich_status import details_of

pytestmark = pytest.mark.postgres
OK, DENIED, MISSING = "ok", grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND
READ = {"director": OK, "secretary": OK, "management": OK, "member": DENIED, "admin": OK, "other": MISSING}
MANAGE = {"director": DENIED, "secretary": DENIED, "management": OK, "member": DENIED, "admin": DENIED,
          "other": DENIED}
AMEND = {"director": OK, "secretary": DENIED, "management": DENIED, "member": DENIED, "admin": DENIED,
         "other": DENIED}


@pytest.fixture(scope="module")
def world(env, tmp_path_factory):
    """One submitted dossier (with a document) for the module; documents in a scratch directory."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COOP_BOARD_DOCUMENTS_DIR", str(tmp_path_factory.mktemp("documents")))
        v1 = submit_v1(env)
        yield {"dossier": v1.dossier.dossier_id, "proposal": v1.version.proposals[0].proposal_id,
               "document": v1.version.documents[0].document_id}


def _calls(env, world, role):
    s = stub(env)

    def create_dossier():
        return s.CreateDossier(pb.CreateDossierRequest(title=lt("t")), metadata=ROLES[role], timeout=10)

    def submit():
        dossier = create(env).dossier_id
        return s.SubmitDossierVersion(pb.SubmitDossierVersionRequest(dossier_id=dossier, proposals=five_keys()),
                                      metadata=ROLES[role], timeout=10)

    def add_document():
        return s.AddDocument(pb.AddDocumentRequest(dossier_id=world["dossier"], document=pb.DocumentUpload(
            filename="a.txt", content=b"annex")), metadata=ROLES[role], timeout=10)

    def upload_document():
        return s.UploadDocument(iter([pb.UploadDocumentRequest(dossier_id=world["dossier"], filename="b.txt",
                                                               chunk=b"annex b")]), metadata=ROLES[role], timeout=10)

    def propose():
        return s.ProposeAmendment(pb.ProposeAmendmentRequest(parent_id=world["proposal"], text=lt(str(uuid.uuid4()))),
                                  metadata=ROLES[role], timeout=10)

    def withdraw():
        mine = s.ProposeAmendment(pb.ProposeAmendmentRequest(parent_id=world["proposal"], text=lt(str(uuid.uuid4()))),
                                  metadata=ROLES["director"], timeout=10).amendment
        return s.WithdrawAmendment(pb.WithdrawAmendmentRequest(amendment_id=mine.amendment_id),
                                   metadata=ROLES[role], timeout=10)

    d = world["dossier"]
    return {
        "CreateDossier": (MANAGE, create_dossier),
        "SubmitDossierVersion": (MANAGE, submit),
        "GetDossier": (READ, lambda: s.GetDossier(pb.GetDossierRequest(dossier_id=d), metadata=ROLES[role],
                                                  timeout=10)),
        "ListDossiers": (READ, lambda: s.ListDossiers(pb.ListDossiersRequest(), metadata=ROLES[role], timeout=10)),
        "ListDossierVersions": (READ, lambda: s.ListDossierVersions(pb.ListDossierVersionsRequest(dossier_id=d),
                                                                    metadata=ROLES[role], timeout=10)),
        "GetVersionChanges": (READ, lambda: s.GetVersionChanges(pb.GetVersionChangesRequest(dossier_id=d),
                                                                metadata=ROLES[role], timeout=10)),
        "AddDocument": (MANAGE, add_document),
        "UploadDocument": (MANAGE, upload_document),
        "GetDocument": (READ, lambda: list(s.GetDocument(pb.GetDocumentRequest(document_id=world["document"]),
                                                         metadata=ROLES[role], timeout=10))),
        "ProposeAmendment": (AMEND, propose),
        "WithdrawAmendment": (AMEND, withdraw),
        "ListAmendments": (READ, lambda: s.ListAmendments(pb.ListAmendmentsRequest(dossier_id=d),
                                                          metadata=ROLES[role], timeout=10)),
    }


RPCS = [m.name for m in pb.DESCRIPTOR.services_by_name["DossierService"].methods]


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("rpc", RPCS)
def test_every_rpc_answers_each_role_as_its_access_rule_says(env, world, rpc, role) -> None:
    rule, call = _calls(env, world, role)[rpc]
    expected = rule[role]
    if rpc == "ListDossiers" and role == "other":
        answer = call()  # another tenant lists its own dossiers: none of coop's
        assert world["dossier"] not in {x.dossier_id for x in answer.dossiers}
        return
    if expected == OK:
        call()
        return
    with pytest.raises(grpc.RpcError) as e:
        call()
    error = details_of(e.value)
    assert error.code == expected, (rpc, role, error)
    assert error.reason, (rpc, role, error)


def test_the_matrix_covers_every_rpc_of_the_service(env, world) -> None:
    assert set(_calls(env, world, "admin")) == set(RPCS)


def test_management_of_another_tenant_finds_no_dossier_to_submit(env) -> None:
    dossier = create(env).dossier_id
    with pytest.raises(grpc.RpcError) as e:
        stub(env).SubmitDossierVersion(pb.SubmitDossierVersionRequest(dossier_id=dossier, proposals=five_keys()),
                                       metadata=coop_testkit.bearer("mgr-x", "management", tenant="other"), timeout=10)
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
