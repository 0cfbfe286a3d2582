"""The CLI's node table names fields the node rows really carry (a typo shows as '-' forever)."""

from __future__ import annotations

from berth_node_manager.domain.nodes import NodeRow

from berth.commands.nodes import COLUMNS


def test_node_columns_are_fields_of_a_node_row() -> None:
    fields = set(NodeRow.model_fields) | {"display_status"}
    assert set(COLUMNS) <= fields, set(COLUMNS) - fields
