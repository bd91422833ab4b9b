"""Billing and contributions service: invoices, contributions, activity budgets, redistribution."""
