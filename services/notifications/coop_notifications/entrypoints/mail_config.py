"""The mail settings of the notifications processes, from the environment (the worker's delivery
loop and the api's one-click unsubscribe endpoint share the signing key). No eventlet here."""

from __future__ import annotations

import os
from datetime import timedelta

from coop_notifications.service_layer.delivery import MailSettings


def unsubscribe_secret(env: dict[str, str] | None = None) -> bytes:
    """COOP_UNSUBSCRIBE_SECRET: signs the one-click unsubscribe links; a development default in
    dev mode only."""
    env = dict(os.environ) if env is None else env
    secret = env.get("COOP_UNSUBSCRIBE_SECRET", "")
    if not secret:
        if env.get("COOP_DEV_MODE") != "1":
            raise SystemExit("COOP_UNSUBSCRIBE_SECRET is not set: it signs the one-click unsubscribe links")
        secret = "dev-unsubscribe-secret"
    return secret.encode()


def mail_settings(env: dict[str, str] | None = None) -> MailSettings:
    """COOP_MAIL_DOMAIN (Message-IDs, return paths), COOP_PORTAL_URL, COOP_UNSUBSCRIBE_URL and
    COOP_UNSUBSCRIBE_SECRET (signs the one-click links; a development default in dev mode only),
    COOP_NOTIFICATIONS_BATCH and COOP_NOTIFICATIONS_LEASE_SECONDS."""
    env = dict(os.environ) if env is None else env
    secret = unsubscribe_secret(env).decode()
    portal = env.get("COOP_PORTAL_URL", "http://localhost:8080")
    return MailSettings(domain=env.get("COOP_MAIL_DOMAIN", "localhost"), portal_url=portal,
                        unsubscribe_base_url=env.get("COOP_UNSUBSCRIBE_URL", "https://localhost:8443"),
                        unsubscribe_secret=secret.encode(), batch_size=int(env.get("COOP_NOTIFICATIONS_BATCH", "200")),
                        lease=timedelta(seconds=float(env.get("COOP_NOTIFICATIONS_LEASE_SECONDS", "300"))))
