"""The board service keeps the layering rule of docs/architecture.md."""

from coop_testkit.layers import layer_violations


def test_domain_and_service_layer_import_no_framework_stub_or_adapter() -> None:
    assert layer_violations("coop_board") == []
