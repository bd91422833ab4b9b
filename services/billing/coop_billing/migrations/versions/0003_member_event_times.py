"""member projection: the time of the event behind status and identity, erasure; contract events
in the outbox lose the employee names they carried

Revision ID: 0003_member_event_times
Revises: 0002_payroll_shares
Create Date: 2026-12-01
"""

import json

import sqlalchemy as sa
from alembic import op

from coop_platform.envelope import dumps

revision = "0003_member_event_times"
down_revision = "0002_payroll_shares"
branch_labels = None
depends_on = None

NAMES = ("givenName", "familyName")


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("status_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("identity_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    # Contract events no longer carry employee names: the outbox keeps none either (rows still
    # to be published go out without them; published ones keep no copy here).
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT seq, body FROM outbox WHERE routing_key LIKE 'contract.%' AND body LIKE '%Name\"%'")).all()
    for seq, body in rows:
        envelope = json.loads(body)
        employee = (envelope.get("data") or {}).get("employee") or {}
        if any(k in employee for k in NAMES):
            for key in NAMES:
                employee.pop(key, None)
            conn.execute(sa.text("UPDATE outbox SET body = :b WHERE seq = :s"),
                         {"b": dumps(envelope), "s": seq})


def downgrade() -> None:
    # The names taken out of the outbox are not put back.
    with op.batch_alter_table("members") as batch:
        batch.drop_column("erased_at")
        batch.drop_column("identity_at")
        batch.drop_column("status_at")
