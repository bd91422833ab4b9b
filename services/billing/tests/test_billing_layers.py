"""Billing keeps the layering of docs/architecture.md: a pure domain (python-stdnum, a pure
library, checks VAT numbers) and a service layer free of frameworks, stubs and its own adapters."""

from coop_testkit.layers import layer_violations


def test_billing_domain_and_service_layer_import_only_what_their_layer_may():
    assert layer_violations("coop_billing", allowed=("stdnum",)) == []
