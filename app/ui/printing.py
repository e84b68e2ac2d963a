"""Paper: the lineup sheet, per-model run cards and the call sheet, to PDF or a printer.

Each printout is a QTextDocument built from plain data (``app.store.exports``), so the same
document goes to ``write_pdf`` (QPdfWriter, A4) or ``print_document`` (QPrintDialog).
Run cards put one model per page: they are cut apart and pinned to the racks.

From a screen, a printout is a ``Paper``: its data is read on the DB worker (``run_db``) and
the document is laid out, printed or written back on the main thread (``print_paper``,
``save_pdf_dialog``), so printing never queries the database from the UI thread. The
``*_document`` and ``*_pdf`` functions do both at once, for the command line and tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any, Generic, TypeVar

from app.errors import explain
from app.store.db import Database
from app.store.exports import (
    CallSheet,
    LineupSheet,
    RunCard,
    call_sheet_data,
    lineup_sheet_data,
    run_cards_data,
)
from app.ui.qt import (
    QDialog,
    QFileDialog,
    QMarginsF,
    QMessageBox,
    QPageLayout,
    QPageSize,
    QPdfWriter,
    QPrintDialog,
    QPrinter,
    QTextDocument,
    QWidget,
)
from app.ui.tasks import run_db

T = TypeVar("T")

STYLE = """
body { font-family: 'DejaVu Sans', sans-serif; font-size: 9pt; color: #111; }
h1 { font-size: 16pt; margin: 0 0 4px 0; }
h2 { font-size: 12pt; margin: 10px 0 4px 0; }
p.sub { color: #444; margin: 0 0 8px 0; }
table { border-collapse: collapse; }
th { background: #e8e8e8; text-align: left; padding: 3px 5px; }
td { padding: 3px 5px; border-bottom: 1px solid #bbb; }
td.num { font-weight: bold; text-align: right; white-space: nowrap; }
td.time { white-space: nowrap; }
p.card { font-size: 28pt; font-weight: bold; margin: 0 0 2px 0; }
.qc { color: #b00020; font-weight: bold; }
"""


class PrintProblem(Exception):
    """A printout that cannot be made. ``str()`` is a sentence for the producer."""


def _e(text: object) -> str:
    return escape(str(text or ""))


def _document(title: str, body: str) -> QTextDocument:
    doc = QTextDocument()
    doc.setDocumentMargin(0)
    doc.setDefaultStyleSheet(STYLE)
    doc.setMetaInformation(QTextDocument.MetaInformation.DocumentTitle, title)
    doc.setHtml(f"<html><body>{body}</body></html>")
    return doc


def _table(header: list[str], rows: list[list[str]], widths: list[int] | None = None) -> str:
    # QTextDocument ignores <col>; widths go on the header cells.
    widths = widths or [0] * len(header)
    head = "".join(
        f'<th width="{w}%">{_e(h)}</th>' if w else f"<th>{_e(h)}</th>"
        for h, w in zip(header, widths, strict=False)
    )
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    return f'<table width="100%" cellspacing="0">{head and f"<tr>{head}</tr>"}{body}</table>'


def _td(text: object, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<td{attr}>{_e(text)}</td>"


# --- the three printouts --------------------------------------------------------------------


def lineup_sheet_html(sheet: LineupSheet) -> str:
    parts = [f"<h1>{_e(sheet.show_name)} — lineup</h1>"]
    sub = [sheet.event_name, sheet.starts, f"{len(sheet.lines)} looks"]
    if sheet.quick_change_count:
        sub.append(f"{sheet.quick_change_count} quick changes")
    parts.append(f'<p class="sub">{_e(" · ".join(s for s in sub if s))}</p>')
    if not sheet.lines:
        parts.append("<p>This show has no looks yet.</p>")
    segment = None
    rows: list[list[str]] = []
    header = ["No.", "Look", "Designer", "Model", "Start", "Quick change / notes"]

    def flush() -> None:
        if rows:
            parts.append(_table(header, rows, [6, 24, 16, 20, 9, 25]))
            rows.clear()

    for line in sheet.lines:
        if line.segment != segment:
            flush()
            segment = line.segment
            parts.append(f"<h2>{_e(segment)}</h2>")
        look = line.look + (f" ({line.pin})" if line.pin else "")
        mark = f"⚡ {line.quick_change}" if line.quick_change else ""
        note = _e(mark) if mark else ""
        if line.notes:
            note += ("<br>" if note else "") + _e(line.notes)
        rows.append(
            [
                _td(line.number, "num"),
                _td(look),
                _td(line.designer),
                _td(line.model),
                _td(line.planned, "time"),
                f'<td class="qc">{note}</td>' if mark else f"<td>{note}</td>",
            ]
        )
    flush()
    return "".join(parts)


def run_cards_html(cards: list[RunCard]) -> str:
    parts = []
    if not cards:
        return "<h1>Run cards</h1><p>No model walks in this show yet.</p>"
    for i, card in enumerate(cards):
        brk = ' style="page-break-before: always;"' if i else ""
        parts.append(f'<p class="card"{brk}>{_e(card.model_name)}</p>')
        sub = [card.show_name, card.event_name, card.agency, card.phone]
        parts.append(f'<p class="sub">{_e(" · ".join(s for s in sub if s))}</p>')
        numbers = ", ".join(str(look.number) for look in card.looks)
        parts.append(f"<h2>Looks {_e(numbers)}</h2>")
        rows = [
            [
                _td(look.number, "num"),
                _td(look.look),
                _td(look.designer),
                _td(look.segment),
                _td(look.planned, "time"),
                _td(look.music_cue),
            ]
            for look in card.looks
        ]
        parts.append(
            _table(
                ["No.", "Look", "Designer", "Segment", "Start", "Music"],
                rows,
                [7, 28, 18, 18, 10, 19],
            )
        )
        if card.changes:
            parts.append("<h2>Changes</h2>")
            for change in card.changes:
                cls = ' class="qc"' if change.quick else ""
                parts.append(f"<p{cls}>{_e(change.words)}</p>")
        else:
            parts.append("<p>One look: no change.</p>")
    return "".join(parts)


def call_sheet_html(sheet: CallSheet) -> str:
    parts = [f"<h1>{_e(sheet.event_name)} — call sheet</h1>"]
    sub = [sheet.venue, f"General call {sheet.general_call}", f"Times in {sheet.timezone}"]
    parts.append(f'<p class="sub">{_e(" · ".join(s for s in sub if s))}</p>')
    if not sheet.departments:
        parts.append("<p>No one has a call time for this event yet.</p>")
    for label, lines in sheet.departments:
        parts.append(f"<h2>{_e(label)} ({len(lines)})</h2>")
        rows = [
            [
                _td(line.call_time or "—", "num"),
                _td(line.name),
                _td(line.role),
                _td(line.location),
                _td(line.phone, "time"),
                _td(line.call_note),
            ]
            for line in lines
        ]
        parts.append(
            _table(
                ["Call", "Name", "Role", "Location", "Phone", "Note"], rows, [9, 22, 16, 15, 16, 22]
            )
        )
    return "".join(parts)


def lineup_sheet_layout(sheet: LineupSheet) -> QTextDocument:
    return _document(f"{sheet.show_name} — lineup", lineup_sheet_html(sheet))


def run_cards_layout(cards: list[RunCard]) -> QTextDocument:
    return _document("Run cards", run_cards_html(cards))


def call_sheet_layout(sheet: CallSheet) -> QTextDocument:
    return _document(f"{sheet.event_name} — call sheet", call_sheet_html(sheet))


def _read_call_sheet(db: Database, event_id: str, now: datetime | None) -> CallSheet:
    with db.session() as session:
        return call_sheet_data(session, event_id, now)


@dataclass(frozen=True)
class Paper(Generic[T]):
    """A printout from a screen: ``load`` reads its data (on the DB worker), ``layout`` makes
    the document from that data (on the main thread)."""

    load: Callable[[], T]
    layout: Callable[[T], QTextDocument]

    def document(self) -> QTextDocument:
        """Both steps in the calling thread (the command line, tests)."""
        return self.layout(self.load())


def lineup_sheet_paper(db: Database, show_id: str) -> Paper[LineupSheet]:
    return Paper(lambda: lineup_sheet_data(db, show_id), lineup_sheet_layout)


def run_cards_paper(db: Database, show_id: str) -> Paper[list[RunCard]]:
    return Paper(lambda: run_cards_data(db, show_id), run_cards_layout)


def call_sheet_paper(db: Database, event_id: str, now: datetime | None = None) -> Paper[CallSheet]:
    return Paper(lambda: _read_call_sheet(db, event_id, now), call_sheet_layout)


def lineup_sheet_document(db: Database, show_id: str) -> QTextDocument:
    return lineup_sheet_paper(db, show_id).document()


def run_cards_document(db: Database, show_id: str) -> QTextDocument:
    return run_cards_paper(db, show_id).document()


def call_sheet_document(db: Database, event_id: str, now: datetime | None = None) -> QTextDocument:
    return call_sheet_paper(db, event_id, now).document()


# --- output ---------------------------------------------------------------------------------


def write_pdf(doc: QTextDocument, path: str | Path) -> Path:
    """Write ``doc`` to an A4 PDF at ``path``."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab"):
            pass
    except OSError as exc:
        raise PrintProblem(f"Cannot write {path}: {exc.strerror or exc}.") from exc
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(QMarginsF(12, 12, 12, 12), QPageLayout.Unit.Millimeter)
    writer.setResolution(300)
    writer.setTitle(doc.metaInformation(QTextDocument.MetaInformation.DocumentTitle))
    writer.setCreator("Showdesk")
    doc.print_(writer)
    del writer  # the file is finished when the writer goes away
    return path


def lineup_sheet_pdf(db: Database, show_id: str, path: str | Path) -> Path:
    return write_pdf(lineup_sheet_document(db, show_id), path)


def run_cards_pdf(db: Database, show_id: str, path: str | Path) -> Path:
    return write_pdf(run_cards_document(db, show_id), path)


def call_sheet_pdf(
    db: Database, event_id: str, path: str | Path, now: datetime | None = None
) -> Path:
    return write_pdf(call_sheet_document(db, event_id, now), path)


def print_document(
    doc: QTextDocument, parent: QWidget | None = None, printer: QPrinter | None = None
) -> bool:
    """Ask for a printer (QPrintDialog) and print ``doc``. False when cancelled.

    ``printer`` is what the dialog starts from (one set to a file offers "Print to File").
    """
    printer = printer or QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setDocName(doc.metaInformation(QTextDocument.MetaInformation.DocumentTitle))
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle("Print")
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    doc.print_(printer)
    return True


def print_paper(
    paper: Paper[Any],
    parent: QWidget | None,
    done: Callable[[bool], None],
    failed: Callable[[BaseException], None],
    printer: QPrinter | None = None,
) -> None:
    """Read ``paper``'s data on the DB worker, then (main thread) lay it out and ask for a
    printer: ``done(True)`` once printed, ``done(False)`` when cancelled, ``failed(exc)`` when
    the data or the printout could not be made."""

    def laid_out(data: Any) -> None:
        try:
            printed = print_document(paper.layout(data), parent, printer)
        except Exception as exc:  # handed to the screen, shown in words
            failed(exc)
            return
        done(printed)

    run_db(paper.load, laid_out, failed)


def save_pdf_dialog(
    parent: QWidget | None,
    suggested_name: str,
    paper: Paper[Any],
    saved: Callable[[Path], None] | None = None,
) -> None:
    """Ask where to save, read ``paper``'s data on the DB worker, then (main thread) write the
    PDF and call ``saved(path)``; a problem is shown as a sentence. Nothing when cancelled."""
    path, _ = QFileDialog.getSaveFileName(parent, "Save PDF", suggested_name, "PDF files (*.pdf)")
    if not path:
        return
    if not path.lower().endswith(".pdf"):
        path += ".pdf"

    def problem(exc: BaseException) -> None:
        QMessageBox.warning(parent, "Could not save the PDF", explain(exc))

    def write(data: Any) -> None:
        try:
            written = write_pdf(paper.layout(data), path)
        except Exception as exc:  # shown to the producer in words, never as a traceback
            problem(exc)
            return
        if saved is not None:
            saved(written)

    run_db(paper.load, write, problem)
