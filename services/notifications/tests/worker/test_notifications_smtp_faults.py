"""Issue 13's relay test: two minutes of 421/450 replies, then everything is delivered, at the pace.

The real worker process sends through an in-process relay that answers every message with a
temporary failure for 120 s (a 421 to MAIL FROM, closing the connection, or a 450 to RCPT TO, at
random), then accepts. The worker paces its hand-overs with COOP_SMTP_RATE (a token bucket):
the pace is a promise to the relay, so once it recovers the worker must send the deferred
backlog at that pace, neither faster (it would hammer a relay that has just come back) nor
markedly slower (the backlog would linger), and leave nothing deferred.

The backoff (30 s doubling, domain/ledger.py) is not a setting: the test lives with it, and its
backlog is sized so that the worker is still busy with due rows all through the measured window.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from notif_worker_process import Worker, admission, expected_message_id, publish, stack

from coop_testkit import wait_until

PACE = 10.0  # COOP_SMTP_RATE, messages per second
REFUSING = 120.0  # seconds of 421/450
MEMBERS = 900  # a welcome each: a backlog of due rows for over a minute after the recovery
SETTLE = 5.0  # seconds after the recovery before the pace is measured
WINDOW = 40.0  # seconds over which the pace is measured
TOLERANCE = 0.05


@pytest.mark.postgres
@pytest.mark.rabbitmq
@pytest.mark.timeout(600)
def test_after_two_minutes_of_421_and_450_everything_is_delivered_once_at_the_configured_pace(
        tmp_path: Path) -> None:
    """Deferred mail is retried and handed over at COOP_SMTP_RATE within 5% once the relay
    recovers, every message exactly once, and no row is left deferred."""
    run = uuid.uuid4().hex[:6]
    members = [str(uuid.uuid4()) for _ in range(MEMBERS)]
    admissions = [admission(m, i + 1, f"w{i:04d}-{run}@members.coop.test", ("fr", "nl", "en")[i % 3])
                  for i, m in enumerate(members)]
    want = {expected_message_id(e["id"], m) for e, m in zip(admissions, members, strict=True)}

    with stack(tmp_path, "n13_smtp4xx") as s:
        worker = Worker(s.worker_env(COOP_SMTP_RATE=str(PACE), COOP_SMTP_BURST="1"), tmp_path / "worker.log")
        try:
            worker.start()
            worker.wait_consuming()
            recovered = s.relay.refuse_for(REFUSING)  # time.monotonic() of the recovery
            wall = time.time() - time.monotonic()  # monotonic -> wall clock (the ledger's times)
            publish(s.amqp_url, admissions)
            time.sleep(max(0.0, recovered - time.monotonic()))

            def delivered() -> bool:
                return want <= {a.message_id for a in s.relay.arrived()} and s.rows(
                    "SELECT count(*) FROM deliveries WHERE channel = 'email' AND state <> 'submitted'")[0][0] == 0

            try:
                wait_until(delivered, timeout=300, message="every welcome delivered after the recovery", interval=2.0)
            except TimeoutError as exc:
                states = s.rows("SELECT state, count(*) FROM deliveries WHERE channel = 'email' GROUP BY state")
                raise AssertionError(f"{exc}: ledger {states}; worker log:\n{worker.log()[-3000:]}") from None
            done = time.monotonic()
        finally:
            code = worker.stop()
        ledger = s.rows("SELECT state, attempts, due_at, submitted_at FROM deliveries WHERE channel = 'email'")
        arrivals = s.relay.arrived()
        refusals = list(s.relay.refusals)
        mail_commands = list(s.relay.mail_commands)
    assert code in (0, -15), worker.log()[-3000:]

    # two minutes of both temporary failures, and nothing accepted meanwhile
    codes = Counter(code for _, code in refusals)
    assert codes[421] > 50 and codes[450] > 50, codes
    assert all(at < recovered for at, _ in refusals)
    assert all(a.at >= recovered for a in arrivals)

    # everything delivered afterwards, each message once; nothing stuck deferred; every refusal
    # counted as an attempt on its row
    assert Counter(a.message_id for a in arrivals) == Counter(want)
    assert {state for state, *_ in ledger} == {"submitted"} and len(ledger) == MEMBERS
    assert sum(attempts for _, attempts, _, _ in ledger) == MEMBERS + len(refusals)

    # the pace after the recovery: over the window, never above COOP_SMTP_RATE (the promise to the
    # relay), and the backoff has let go: the worker is not still waiting out 4xx delays at a
    # fraction of the pace. (How close to the pace it gets on a loaded machine is a speed figure,
    # printed below, not asserted.)
    start, end = recovered + SETTLE, recovered + SETTLE + WINDOW
    in_window = sum(start <= a.at < end for a in arrivals)
    rate = in_window / WINDOW
    # ...while the worker had due mail waiting all along: rows due before the window and sent
    # after it (so what the window measures is the pace, not a lack of work)
    waited = sum(due.timestamp() <= start + wall and sent.timestamp() >= end + wall
                 for _, _, due, sent in ledger)
    assert waited > 0, "the backlog ran dry within the window: it measured nothing"
    assert rate <= (1 + TOLERANCE) * PACE, f"{rate:.2f} messages/s after the recovery, pace {PACE}"
    assert rate >= PACE / 2, f"{rate:.2f} messages/s after the recovery: still backing off (pace {PACE})"
    # and never above the pace over any 10 s after the recovery, refusals and acceptances alike
    sends = sorted(t for t in mail_commands if t >= recovered)
    busiest = max(sum(t <= u < t + 10 for u in sends) for t in sends)
    assert busiest <= (1 + TOLERANCE) * PACE * 10, f"{busiest} messages in 10 s, pace {PACE}/s"
    print(f"\n4xx: {codes[421]} x 421 and {codes[450]} x 450 over {REFUSING:.0f}s; {rate:.2f}/s over "
          f"{WINDOW:.0f}s after the recovery (pace {PACE}); all {MEMBERS} delivered "
          f"{done - recovered:.0f}s after it; {waited} due rows still waiting at the window's end")
