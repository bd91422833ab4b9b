"""The tests' real mail path: Postfix on a loopback port, mailboxes read back over IMAP (Dovecot).

``scripts/ensure_mail.sh`` installs and starts both (``make test`` runs it; :func:`mail_path`
runs it too, so a single test file works on its own; it returns at once when all is up).

    path = mail_path()                          # MailPath(domain, smtp_port, imap_port, ...)
    path.smtp_url                               # for COOP_SMTP_URL: smtp://127.0.0.1:2525?tls=none
    address = path.new_address("ana")           # a fresh mailbox: ana-<random>@coop.test
    [message] = path.fetch(address, count=1)    # waits for delivery; EmailMessage objects
    path.unknown_address()                      # an address Postfix bounces (user unknown)
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import imaplib
import os
import subprocess
import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "scripts" / "ensure_mail.sh"


@dataclass(frozen=True)
class MailPath:
    domain: str
    smtp_port: int
    imap_port: int
    password: str
    host: str = "127.0.0.1"

    @property
    def smtp_url(self) -> str:
        # The loopback test relay has no certificate: tls=none is right here, and only here.
        return f"smtp://{self.host}:{self.smtp_port}?tls=none&timeout=10"

    def new_address(self, prefix: str = "member") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:12]}@{self.domain}"

    def unknown_address(self) -> str:
        return f"unknown-{uuid.uuid4().hex[:12]}@{self.domain}"

    def imap(self, address: str) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.imap_port, timeout=10)
        conn.login(address, self.password)
        return conn

    def fetch(self, address: str, count: int = 1, timeout: float = 30.0,
              delete: bool = False) -> list[EmailMessage]:
        """The messages of ``address``'s inbox, once there are at least ``count`` (or TimeoutError)."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self._read(address, delete=False)
            if len(messages) >= count:
                if delete:
                    self._read(address, delete=True)
                return messages
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{address}: {len(messages)} of {count} messages after {timeout:.0f} s "
                    "(see /var/log/postfix-coop-test.log)")
            time.sleep(0.1)

    def _read(self, address: str, delete: bool) -> list[EmailMessage]:
        conn = self.imap(address)
        try:
            conn.select("INBOX")
            _, data = conn.search(None, "ALL")
            out = []
            for num in data[0].split():
                _, parts = conn.fetch(num, "(BODY.PEEK[])")
                out.append(email.message_from_bytes(parts[0][1], policy=email.policy.default))
                if delete:
                    conn.store(num, "+FLAGS", "\\Deleted")
            if delete:
                conn.expunge()
            return out
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                conn.logout()


def mail_path() -> MailPath:
    """Start (or find running) the test Postfix and Dovecot; raise with the script's words if not."""
    env = dict(os.environ)
    result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=env,
                            timeout=900)
    if result.returncode != 0:
        raise RuntimeError(f"scripts/ensure_mail.sh failed:\n{result.stdout}{result.stderr}")
    return MailPath(
        domain=env.get("COOP_TEST_MAIL_DOMAIN", "coop.test"),
        smtp_port=int(env.get("COOP_TEST_SMTP_PORT", "2525")),
        imap_port=int(env.get("COOP_TEST_IMAP_PORT", "1143")),
        password=env.get("COOP_TEST_IMAP_PASSWORD", "coop-test"),
    )
