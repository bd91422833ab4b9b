"""members projection, clients, activities, ledger, rates, counters, invoices, contracts,
share fees, envelopes and payouts, outbox and inbox

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from coop_platform.tables import create_platform_tables, drop_platform_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables(op)
    op.create_table('activities',
    sa.Column('activity_id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('sector_code', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('activity_id')
    )
    op.create_index('ix_activities_member', 'activities', ['member_id', 'created_at'], unique=False)
    op.create_table('clients',
    sa.Column('client_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=False),
    sa.Column('vat_number', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('client_id'),
    sa.UniqueConstraint('vat_number')
    )
    op.create_table('envelopes',
    sa.Column('envelope_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('retained_bp', sa.Integer(), nullable=False),
    sa.Column('retained_cents', sa.BigInteger(), nullable=False),
    sa.Column('scenario', sa.Text(), nullable=False),
    sa.Column('adopted_by', sa.String(length=100), nullable=False),
    sa.Column('adopted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('envelope_id')
    )
    op.create_table('members',
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('member_number', sa.String(length=20), server_default='', nullable=False),
    sa.Column('given_name', sa.String(length=100), server_default='', nullable=False),
    sa.Column('family_name', sa.String(length=100), server_default='', nullable=False),
    sa.Column('preferred_language', sa.String(length=8), server_default='fr', nullable=False),
    sa.Column('status', sa.String(length=20), server_default='active', nullable=False),
    sa.Column('in_good_standing', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('standing_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('member_id')
    )
    op.create_index('ix_members_number', 'members', ['member_number'], unique=False)
    op.create_index('ix_members_status', 'members', ['status'], unique=False)
    op.create_table('number_counters',
    sa.Column('series', sa.String(length=4), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('series', 'year')
    )
    op.create_table('rates',
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('basis_points', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'effective_from')
    )
    op.create_table('share_fees',
    sa.Column('fee_id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('paid_cents', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('bank_reference', sa.String(length=100), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('fee_id'),
    sa.UniqueConstraint('bank_reference'),
    sa.UniqueConstraint('member_id', 'year', name='uq_share_fees_member_year'),
    sa.UniqueConstraint('number')
    )
    op.create_table('contracts',
    sa.Column('contract_id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('activity_id', sa.String(length=36), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=True),
    sa.Column('hours', sa.String(length=24), nullable=True),
    sa.Column('gross_cents', sa.BigInteger(), nullable=False),
    sa.Column('job_title', sa.String(length=200), nullable=False),
    sa.Column('joint_committee', sa.String(length=10), nullable=False),
    sa.Column('social_charges_cents', sa.BigInteger(), nullable=False),
    sa.Column('employer_cost_cents', sa.BigInteger(), nullable=False),
    sa.Column('employment_contribution_cents', sa.BigInteger(), nullable=False),
    sa.Column('total_cost_cents', sa.BigInteger(), nullable=False),
    sa.Column('reserved_cents', sa.BigInteger(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.activity_id'], ),
    sa.PrimaryKeyConstraint('contract_id')
    )
    op.create_index('ix_contracts_activity', 'contracts', ['activity_id'], unique=False)
    op.create_index('ix_contracts_member', 'contracts', ['member_id', 'created_at'], unique=False)
    op.create_table('invoices',
    sa.Column('invoice_id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('activity_id', sa.String(length=36), nullable=False),
    sa.Column('client_id', sa.String(length=36), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('net_cents', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('vat_cents', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('total_cents', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('paid_cents', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('contribution_cents', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('contribution_rate_bp', sa.Integer(), server_default='0', nullable=False),
    sa.Column('credit_note_number', sa.String(length=20), nullable=True),
    sa.Column('credit_note_on', sa.Date(), nullable=True),
    sa.Column('credit_note_reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.activity_id'], ),
    sa.ForeignKeyConstraint(['client_id'], ['clients.client_id'], ),
    sa.PrimaryKeyConstraint('invoice_id'),
    sa.UniqueConstraint('credit_note_number'),
    sa.UniqueConstraint('number')
    )
    op.create_index('ix_invoices_issued', 'invoices', ['issued_on'], unique=False)
    op.create_index('ix_invoices_member', 'invoices', ['member_id', 'created_at'], unique=False)
    op.create_table('ledger_entries',
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('activity_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('contract_id', sa.String(length=36), nullable=True),
    sa.Column('balance_delta', sa.BigInteger(), nullable=False),
    sa.Column('reserved_delta', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.activity_id'], ),
    sa.PrimaryKeyConstraint('entry_id')
    )
    op.create_index('ix_ledger_activity', 'ledger_entries', ['activity_id', 'entry_id'], unique=False)
    op.create_index('ix_ledger_reference', 'ledger_entries', ['activity_id', 'reference'], unique=False)
    op.create_table('payouts',
    sa.Column('envelope_id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['envelope_id'], ['envelopes.envelope_id'], ),
    sa.PrimaryKeyConstraint('envelope_id', 'member_id')
    )
    op.create_table('invoice_lines',
    sa.Column('invoice_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('quantity', sa.String(length=24), nullable=False),
    sa.Column('unit_price_cents', sa.BigInteger(), nullable=False),
    sa.Column('vat_rate', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.invoice_id'], ),
    sa.PrimaryKeyConstraint('invoice_id', 'position')
    )
    op.create_table('payments',
    sa.Column('invoice_id', sa.String(length=36), nullable=False),
    sa.Column('payment_id', sa.String(length=100), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.invoice_id'], ),
    sa.PrimaryKeyConstraint('invoice_id', 'payment_id')
    )


def downgrade() -> None:
    op.drop_table("payments")
    op.drop_table("invoice_lines")
    op.drop_table("payouts")
    op.drop_table("ledger_entries")
    op.drop_table("invoices")
    op.drop_table("contracts")
    op.drop_table("share_fees")
    op.drop_table("rates")
    op.drop_table("number_counters")
    op.drop_table("members")
    op.drop_table("envelopes")
    op.drop_table("clients")
    op.drop_table("activities")
    drop_platform_tables(op)
