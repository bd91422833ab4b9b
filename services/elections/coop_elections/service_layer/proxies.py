"""Use cases of proxies: a voter gives their vote to another voter of the same roll, and takes
it back while it is unused."""

from __future__ import annotations

from datetime import datetime

from coop_domain.errors import FailedPrecondition
from coop_domain.principal import Principal
from coop_elections.domain.election import check_id
from coop_elections.domain.proxies import ProxyBook, ProxyStatus
from coop_elections.domain.stored import StoredElection
from coop_elections.service_layer.common import VOTERS, load
from coop_elections.service_layer.ports import ElectionsUnitOfWork

ProxyView = tuple[str, str, str]  # (giver, holder, status)


def _proxy_book(uow: ElectionsUnitOfWork, e: StoredElection) -> ProxyBook:
    book = ProxyBook(e.spec.max_proxies_held)
    for row in uow.elections.proxies(e.election_id):
        if row.status in (ProxyStatus.ACTIVE, ProxyStatus.USED):
            proxy = book.give(row.giver_id, row.holder_id)
            if row.status == ProxyStatus.USED:
                book.use(proxy.holder, proxy.giver)
    return book


def give_proxy(uow: ElectionsUnitOfWork, caller: Principal, election_id: str, holder: str,
               now: datetime) -> ProxyView:
    """The caller gives their proxy to `holder`; again to the same holder returns it."""
    caller.require(*VOTERS)
    giver = caller.subject
    check_id(holder, "holder_id")
    with uow:
        e = load(uow, caller, election_id, lock="update")
        if not e.spec.max_proxies_held:
            raise FailedPrecondition("this election does not allow proxies", reason="PROXIES_NOT_ALLOWED")
        if now >= e.closes_at:
            raise FailedPrecondition("voting has closed", reason="VOTING_CLOSED")
        for who, field in ((giver, None), (holder, "holder_id")):
            if uow.elections.roll_entry(e.election_id, who) is None:
                raise FailedPrecondition(f"{who} is not on the voter roll", field=field, reason="NOT_ON_ROLL")
        given = uow.elections.proxy(e.election_id, giver)
        if given is not None and given.holder_id == holder and given.status in (ProxyStatus.ACTIVE, ProxyStatus.USED):
            return given.giver_id, given.holder_id, given.status  # a retry: the first answer
        if uow.elections.has_voted(e.election_id, giver):
            raise FailedPrecondition("you have already voted", reason="ALREADY_VOTED")
        proxy = _proxy_book(uow, e).give(giver, holder)
        uow.elections.save_proxy(e.election_id, proxy.giver, proxy.holder, proxy.status.value)
        uow.commit()
        return proxy.giver, proxy.holder, proxy.status.value


def revoke_proxy(uow: ElectionsUnitOfWork, caller: Principal, election_id: str) -> ProxyView:
    caller.require(*VOTERS)
    with uow:
        e = load(uow, caller, election_id, lock="update")
        given = uow.elections.proxy(e.election_id, caller.subject)
        if given is not None and given.status == ProxyStatus.REVOKED:  # a retry: the first answer
            return given.giver_id, given.holder_id, given.status
        proxy = _proxy_book(uow, e).revoke(caller.subject)
        uow.elections.save_proxy(e.election_id, proxy.giver, proxy.holder, proxy.status.value)
        uow.commit()
        return proxy.giver, proxy.holder, proxy.status.value
