"""Billing and contributions service: invoices, contributions, activity budgets, redistribution."""

SERVICE_NAME = "billing"
