"""Answering the real modal dialogs a test opens (they run their own event loop)."""

from __future__ import annotations


def answer_print_dialog(accept: bool, seen: list[str]) -> None:
    """When the print dialog is up, press Print (``accept``) or Cancel; note its title."""
    from app.ui.qt import QApplication, QPrintDialog, QTimer

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QPrintDialog):
            QTimer.singleShot(20, answer)
            return
        seen.append(dialog.windowTitle())
        dialog.accept() if accept else dialog.reject()

    QTimer.singleShot(20, answer)


def printer_to_file(path) -> object:
    """A printer the dialog opens on "Print to File (PDF)", writing ``path``."""
    from app.ui.qt import QPrinter

    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFileName(str(path))
    return printer
