"""A look dragged with the real X pointer under Xvfb (XTEST through xdotool, Qt's XDND loop)."""

from __future__ import annotations

import pytest

from tests.support.xvfb import needs, run_module

pytestmark = pytest.mark.gui


@needs("xdotool")
def test_a_look_dragged_with_the_mouse_moves_and_saves_one_outbox_row():
    result = run_module("tests.lineup.drag_script")
    assert result["pointer_exit"] == 0
    assert result["moved_from"] == 7 and result["moved_to"] == 5
    assert result["others_in_order"] and result["outbox_rows"] == 1
