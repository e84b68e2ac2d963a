"""The gate this kiosk scans at, chosen from the event's gates (no free text: a typo would
refuse everyone).

Keyboard: F4 (the door's shortcut) opens the list, arrows move, Enter chooses, Esc keeps the
gate. While the kiosk is locked the list does not open; the door asks for the staff PIN first.
"""

from __future__ import annotations

from app.ui.qt import QComboBox, QEvent, QKeyEvent, Qt, Signal

STYLE = """
QComboBox {
    background: #1f252d;
    color: #ffffff;
    border: 2px solid #3a434f;
    border-radius: 6px;
    padding: 4px 10px;
    font-size: 22px;
    font-weight: bold;
}
QComboBox:focus { border: 3px solid #ffbf00; }
QComboBox QAbstractItemView {
    background: #1f252d;
    color: #ffffff;
    font-size: 22px;
    selection-background-color: #2f6fcf;
    selection-color: #ffffff;
}
"""


class GatePicker(QComboBox):
    """A list of the event's gates. ``gate_chosen(name)`` when a person picks one."""

    gate_chosen = Signal(str)
    unlock_wanted = Signal()  # a locked kiosk: the door asks for the PIN, then opens the list

    def __init__(self, gate: str) -> None:
        super().__init__()
        self.setObjectName("gateField")
        self.setAccessibleName("gate")
        self.setToolTip("The gate this kiosk scans at (F4: choose, arrows and Enter)")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setMaximumWidth(320)
        self.setStyleSheet(STYLE)
        self._read_only = False
        self.set_gates([gate], gate)
        self.activated.connect(self._activated)

    @property
    def gate(self) -> str:
        return self.currentText()

    @property
    def gates(self) -> list[str]:
        return [self.itemText(i) for i in range(self.count())]

    def set_gates(self, gates: list[str], current: str) -> None:
        """Show ``gates`` (the current one added if the event does not list it)."""
        names = list(gates) if current in gates else [current, *gates]
        self.blockSignals(True)
        self.clear()
        self.addItems(names)
        self.setCurrentIndex(names.index(current))
        self.blockSignals(False)

    def open_list(self) -> None:
        self.setFocus()
        self.showPopup()

    def setReadOnly(self, locked: bool) -> None:  # noqa: N802 (the QLineEdit spelling)
        self._read_only = locked

    def isReadOnly(self) -> bool:  # noqa: N802
        return self._read_only

    def _activated(self, index: int) -> None:
        self.gate_chosen.emit(self.itemText(index))

    # --- locked kiosk: no change without the PIN; the wheel never changes the gate ------------
    def showPopup(self) -> None:  # noqa: N802
        if self._read_only:
            self.unlock_wanted.emit()
            return
        super().showPopup()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if self._read_only and event.key() not in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab):
            event.ignore()
            return
        super().keyPressEvent(event)

    def wheelEvent(self, event: QEvent) -> None:  # noqa: N802
        event.ignore()  # scrolling past the door screen must not move the kiosk to another gate
