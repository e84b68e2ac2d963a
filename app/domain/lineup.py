"""The runway lineup: walk order, look numbers, pins, moves, quick changes, show timing.

Pure rules: no Qt, no database. ``app.store.lineup_store`` builds a ``Lineup`` from the
replica and saves the writes a move plans; the board, the show display and the printouts
(lineup sheet, per-model run cards) read it.

Walk order
    Opening looks (``is_opening``) come first and closing looks (``is_closing``) last, whatever
    their keys say; everything else is ordered by segment order, then order key, then id (two
    devices that dropped two looks onto the same place produce equal keys: the id decides,
    the same way on every device).

Moves
    ``plan_move(appearance_id, to_index)`` puts a look at a walk-order position and writes ONE
    row: its ``order_key`` (and ``segment_id`` when it lands in another segment). A move onto or
    past a pinned look is clamped next to it, with a message; pinned looks themselves are
    refused. Segments are contiguous in walk order, so a drop position always names a segment:
    a look dropped where two segments meet stays in its own segment if it is one of them,
    otherwise it joins the segment above. A look dropped into another segment *moves* there
    and the plan says so in words ("Look 12 'Ivory coat' moved from Daywear to Evening").
    Rarely (equal keys around the drop point, or keys longer than MAX_KEY_LENGTH) the plan
    rewrites the whole segment's keys and says ``rebalanced``.

Quick changes
    For each model, each pair of consecutive looks she walks is checked: fewer than
    ``quick_change_min_looks`` looks between them, or fewer than ``quick_change_min_seconds``
    between their planned walk starts, is a quick change. Automatic warnings live apart from
    the notes producers type (``Appearance.notes``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from app.domain.order_keys import MAX_KEY_LENGTH, OrderKeyError, key_between, rebalance

STATUSES: tuple[str, ...] = ("pending", "fitted", "dressed", "ready", "walked")
STATUS_LABELS: dict[str, str] = {
    "pending": "Pending",
    "fitted": "Fitted",
    "dressed": "Dressed",
    "ready": "Ready",
    "walked": "Walked",
}
MODEL_REMOVED = "Model removed"
NO_MODEL = "No model"
EMPTY_MESSAGE = (
    "This show has no looks yet. Looks added in FashionOS appear here after the next sync."
)


def next_status(status: str) -> str:
    """The status after ``status`` (walked stays walked; unknown values restart at pending)."""
    if status not in STATUSES:
        return STATUSES[0]
    return STATUSES[min(STATUSES.index(status) + 1, len(STATUSES) - 1)]


def previous_status(status: str) -> str:
    if status not in STATUSES:
        return STATUSES[0]
    return STATUSES[max(STATUSES.index(status) - 1, 0)]


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.capitalize() if status else "Pending")


@dataclass(frozen=True)
class Appearance:
    """One look walked by one model at one place in a segment's walk order."""

    id: str
    segment_id: str
    look_id: str
    look_title: str
    order_key: str
    designer: str | None = None
    model_id: str | None = None
    model_name: str | None = None  # None with a model_id: the model was deleted
    is_opening: bool = False
    is_closing: bool = False
    status: str = "pending"
    notes: str | None = None
    photo_path: str | None = None  # the look's photo
    model_photo_path: str | None = None
    walked_at: datetime | None = None

    @property
    def model_removed(self) -> bool:
        return self.model_id is not None and self.model_name is None

    @property
    def model_label(self) -> str:
        if self.model_removed:
            return MODEL_REMOVED
        return self.model_name or NO_MODEL

    @property
    def pinned(self) -> bool:
        return self.is_opening or self.is_closing


@dataclass(frozen=True)
class Segment:
    id: str
    name: str
    order_key: str
    music_cue: str | None = None
    walk_interval_s: int | None = None  # None: the show's default


@dataclass(frozen=True)
class ShowSettings:
    id: str
    name: str
    walk_interval_s: int = 30
    quick_change_min_looks: int = 3
    quick_change_min_seconds: int = 120
    starts_at: datetime | None = None
    actual_started_at: datetime | None = None
    status: str = "planned"


@dataclass(frozen=True)
class QuickChange:
    """One model walking two consecutive looks of hers too close together."""

    model_id: str
    model_name: str
    first_id: str
    second_id: str
    first_number: int
    second_number: int
    looks_between: int
    seconds: int
    too_few_looks: bool
    too_few_seconds: bool
    min_looks: int
    min_seconds: int

    @property
    def message(self) -> str:
        gap = f"{self.looks_between} look{'s' if self.looks_between != 1 else ''} apart"
        reasons = []
        if self.too_few_looks:
            reasons.append(f"the {self.min_looks}-look minimum")
        if self.too_few_seconds:
            reasons.append(f"the {self.min_seconds} s minimum")
        return (
            f"{self.model_name} walks look {self.first_number} and look {self.second_number}: "
            f"{gap}, {self.seconds} s — below {' and '.join(reasons)}"
        )


@dataclass(frozen=True)
class MovePlan:
    """What a move writes. ``writes`` maps appearance id -> (segment_id, order_key)."""

    appearance_id: str
    writes: dict[str, tuple[str, str]]
    to_index: int
    message: str | None = None
    refused: bool = False
    rebalanced: bool = False
    old: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.writes) and not self.refused


def _refused(appearance_id: str, index: int, message: str) -> MovePlan:
    return MovePlan(appearance_id, {}, index, message=message, refused=True)


class Lineup:
    """A show's lineup: segments and appearances, with derived order, numbers and warnings."""

    def __init__(
        self,
        show: ShowSettings,
        segments: Iterable[Segment],
        appearances: Iterable[Appearance],
    ) -> None:
        self.show = show
        self.segments: dict[str, Segment] = {s.id: s for s in segments}
        self._segment_rank = {
            s.id: i
            for i, s in enumerate(sorted(self.segments.values(), key=lambda s: (s.order_key, s.id)))
        }
        self._by_id: dict[str, Appearance] = {a.id: a for a in appearances}
        self._resort()

    # --- order ------------------------------------------------------------------------

    def _sort_key(self, a: Appearance) -> tuple:
        pin = 0 if a.is_opening else (2 if a.is_closing else 1)
        seg_rank = self._segment_rank.get(a.segment_id, len(self._segment_rank))
        return (pin, seg_rank, a.order_key, a.id)

    def _resort(self) -> None:
        self._order = sorted(self._by_id.values(), key=self._sort_key)
        self._index = {a.id: i for i, a in enumerate(self._order)}
        self._quick: list[QuickChange] | None = None
        self._offsets: list[int] | None = None

    @property
    def order(self) -> list[Appearance]:
        """Appearances in walk order (a copy)."""
        return list(self._order)

    def __len__(self) -> int:
        return len(self._order)

    @property
    def is_empty(self) -> bool:
        return not self._order

    @property
    def empty_message(self) -> str | None:
        return EMPTY_MESSAGE if not self._order else None

    def get(self, appearance_id: str) -> Appearance | None:
        return self._by_id.get(appearance_id)

    def index_of(self, appearance_id: str) -> int:
        return self._index[appearance_id]

    def number_of(self, appearance_id: str) -> int:
        """The look number (1..N across the show) of an appearance."""
        return self._index[appearance_id] + 1

    def at(self, index: int) -> Appearance:
        return self._order[index]

    def ordered_segments(self) -> list[Segment]:
        return sorted(self.segments.values(), key=lambda s: self._segment_rank[s.id])

    def segment_of(self, appearance: Appearance) -> Segment | None:
        return self.segments.get(appearance.segment_id)

    def segment_name(self, appearance: Appearance) -> str:
        seg = self.segments.get(appearance.segment_id)
        return seg.name if seg else "No segment"

    # --- timing -----------------------------------------------------------------------

    def interval_of(self, appearance: Appearance) -> int:
        seg = self.segments.get(appearance.segment_id)
        if seg is not None and seg.walk_interval_s:
            return seg.walk_interval_s
        return self.show.walk_interval_s or 30

    def planned_offsets(self) -> list[int]:
        """Planned start of each look, in seconds from the show's start, in walk order."""
        if self._offsets is None:
            offsets, t = [], 0
            for a in self._order:
                offsets.append(t)
                t += self.interval_of(a)
            self._offsets = offsets
            self._total = t
        return self._offsets

    def planned_offset(self, appearance_id: str) -> int:
        return self.planned_offsets()[self._index[appearance_id]]

    @property
    def planned_duration(self) -> int:
        self.planned_offsets()
        return self._total

    # --- quick changes ----------------------------------------------------------------

    def quick_changes(self) -> list[QuickChange]:
        """Every quick change, in walk order of the second look (O(n))."""
        if self._quick is None:
            self._quick = self._find_quick_changes()
        return self._quick

    def _find_quick_changes(self) -> list[QuickChange]:
        min_looks = self.show.quick_change_min_looks
        min_seconds = self.show.quick_change_min_seconds
        offsets = self.planned_offsets()
        last_seen: dict[str, int] = {}
        found: list[QuickChange] = []
        for i, a in enumerate(self._order):
            if a.model_id is None or a.model_removed:
                continue
            j = last_seen.get(a.model_id)
            last_seen[a.model_id] = i
            if j is None:
                continue
            between = i - j - 1
            seconds = offsets[i] - offsets[j]
            few_looks = between < min_looks
            few_seconds = seconds < min_seconds
            if few_looks or few_seconds:
                found.append(
                    QuickChange(
                        model_id=a.model_id,
                        model_name=a.model_label,
                        first_id=self._order[j].id,
                        second_id=a.id,
                        first_number=j + 1,
                        second_number=i + 1,
                        looks_between=between,
                        seconds=seconds,
                        too_few_looks=few_looks,
                        too_few_seconds=few_seconds,
                        min_looks=min_looks,
                        min_seconds=min_seconds,
                    )
                )
        return found

    def quick_changes_for(self, appearance_id: str) -> list[QuickChange]:
        """Quick changes this look is part of (as the first or the second look)."""
        return [q for q in self.quick_changes() if appearance_id in (q.first_id, q.second_id)]

    def quick_change_by_second(self) -> dict[str, QuickChange]:
        """Quick change arriving at each look (keyed by the second look's id)."""
        return {q.second_id: q for q in self.quick_changes()}

    def warnings_for(self, appearance_id: str) -> list[str]:
        """Automatic warnings for one look, in words (kept apart from the producer's notes)."""
        a = self._by_id[appearance_id]
        out: list[str] = []
        if a.model_removed:
            out.append(f"Look {self.number_of(a.id)}: model removed — choose another model")
        elif a.model_id is None:
            out.append(f"Look {self.number_of(a.id)}: no model assigned")
        if a.segment_id not in self.segments:
            out.append(f"Look {self.number_of(a.id)}: its segment no longer exists")
        out.extend(q.message for q in self.quick_changes() if q.second_id == a.id)
        return out

    def all_warnings(self) -> list[str]:
        return [w for a in self._order for w in self.warnings_for(a.id)]

    # --- moves ------------------------------------------------------------------------

    def _label(self, a: Appearance) -> str:
        return f"Look {self.number_of(a.id)} '{a.look_title}'"

    def plan_move(self, appearance_id: str, to_index: int) -> MovePlan:
        """Plan moving an appearance to walk-order position ``to_index`` (0-based, final)."""
        a = self._by_id.get(appearance_id)
        if a is None:
            return _refused(appearance_id, to_index, "That look is no longer in this lineup.")
        if a.is_opening:
            return _refused(
                a.id,
                self.index_of(a.id),
                f"{self._label(a)} is the opening look and stays first. Unpin it to move it.",
            )
        if a.is_closing:
            return _refused(
                a.id,
                self.index_of(a.id),
                f"{self._label(a)} is the closing look and stays last. Unpin it to move it.",
            )
        rest = [x for x in self._order if x.id != a.id]
        lo = sum(1 for x in rest if x.is_opening)
        hi = len(rest) - sum(1 for x in rest if x.is_closing)
        message = None
        if to_index < lo:
            to_index = lo
            message = (
                f"{self._label(a)} goes right after the opening look (the opening stays first)."
            )
        elif to_index > hi:
            to_index = hi
            message = (
                f"{self._label(a)} goes right before the closing look (the closing stays last)."
            )
        if to_index == self.index_of(a.id):
            return MovePlan(a.id, {}, to_index, message=message)

        prev = rest[to_index - 1] if to_index > 0 else None
        nxt = rest[to_index] if to_index < len(rest) else None
        target = self._target_segment(a, prev, nxt)
        lower, upper = self._neighbour_keys(rest, to_index, target)
        old = {a.id: (a.segment_id, a.order_key)}
        try:
            key = key_between(lower, upper)
        except OrderKeyError:
            key = None
        if key is None or len(key) > MAX_KEY_LENGTH:
            return self._rebalanced_plan(a, rest, to_index, target, message)
        if target != a.segment_id:
            moved = (
                f"{self._label(a)} moved from {self.segment_name(a)} to "
                f"{self.segments[target].name if target in self.segments else 'another segment'}."
            )
            message = f"{message} {moved}" if message else moved
        return MovePlan(a.id, {a.id: (target, key)}, to_index, message=message, old=old)

    def _target_segment(
        self, a: Appearance, prev: Appearance | None, nxt: Appearance | None
    ) -> str:
        candidates = [x.segment_id for x in (prev, nxt) if x is not None and not x.pinned]
        if not candidates:
            candidates = [x.segment_id for x in (prev, nxt) if x is not None]
        if a.segment_id in candidates or not candidates:
            return a.segment_id
        return candidates[0]

    @staticmethod
    def _neighbour_keys(
        rest: list[Appearance], to_index: int, segment_id: str
    ) -> tuple[str | None, str | None]:
        lower = upper = None
        for x in reversed(rest[:to_index]):
            if x.segment_id == segment_id and not x.pinned:
                lower = x.order_key
                break
        for x in rest[to_index:]:
            if x.segment_id == segment_id and not x.pinned:
                upper = x.order_key
                break
        return lower, upper

    def _rebalanced_plan(
        self, a: Appearance, rest: list[Appearance], to_index: int, target: str, message: str | None
    ) -> MovePlan:
        """Rewrite every key of the target segment (rare: equal or overlong keys)."""
        new_order = [*rest[:to_index], replace(a, segment_id=target), *rest[to_index:]]
        members = [x for x in new_order if x.segment_id == target and not x.pinned]
        keys = rebalance(len(members))
        writes = {x.id: (target, k) for x, k in zip(members, keys, strict=True)}
        old = {x.id: (self._by_id[x.id].segment_id, self._by_id[x.id].order_key) for x in members}
        note = f"The walk order of {self.segments[target].name if target in self.segments else 'the segment'} was renumbered ({len(writes)} looks)."
        return MovePlan(
            a.id,
            writes,
            to_index,
            message=f"{message} {note}" if message else note,
            rebalanced=True,
            old=old,
        )

    def plan_restore(self, plan: MovePlan) -> MovePlan:
        """The plan that undoes ``plan`` (writes the old keys back)."""
        writes = {i: v for i, v in plan.old.items() if i in self._by_id}
        return MovePlan(
            plan.appearance_id, writes, -1, message="Move undone.", old=dict(plan.writes)
        )

    def apply(self, plan: MovePlan) -> None:
        """Apply a plan's writes to this lineup (after, or while, saving them)."""
        if plan.refused:
            return
        for app_id, (segment_id, key) in plan.writes.items():
            current = self._by_id.get(app_id)
            if current is not None:
                self._by_id[app_id] = replace(current, segment_id=segment_id, order_key=key)
        self._resort()

    def move(self, appearance_id: str, to_index: int) -> MovePlan:
        """Plan and apply in one step (for tests, the benchmark and scripts)."""
        plan = self.plan_move(appearance_id, to_index)
        self.apply(plan)
        return plan

    # --- other edits ------------------------------------------------------------------

    def replace_appearance(self, appearance: Appearance) -> None:
        """Put an edited appearance (status, model, notes...) in place."""
        self._by_id[appearance.id] = appearance
        self._resort()

    def with_status(
        self, appearance_id: str, status: str, walked_at: datetime | None = None
    ) -> Appearance:
        a = replace(self._by_id[appearance_id], status=status, walked_at=walked_at)
        self.replace_appearance(a)
        return a

    def model_runs(self) -> dict[str, list[Appearance]]:
        """Each model's looks in walk order (for per-model run cards)."""
        runs: dict[str, list[Appearance]] = {}
        for a in self._order:
            if a.model_id is not None:
                runs.setdefault(a.model_id, []).append(a)
        return runs


# --- running the show ---------------------------------------------------------------------


@dataclass(frozen=True)
class RunSnapshot:
    """Where the show is at a moment: what is on, on deck, next, and the timing."""

    current_index: int  # -1: not started
    now: Appearance | None
    on_deck: Appearance | None
    next_up: list[Appearance]
    elapsed_s: float
    delta_s: float  # > 0 behind schedule, < 0 ahead
    estimated_finish: datetime | None
    finished: bool
    on_deck_quick_change: QuickChange | None


def format_delta(delta_s: float) -> str:
    """'0:42 behind', '0:10 ahead', 'on time': the word carries the direction, so there is no
    sign (a "−0:10 ahead" reads as a double negative)."""
    seconds = int(round(delta_s))
    if seconds == 0:
        return "on time"
    m, s = divmod(abs(seconds), 60)
    return f"{m}:{s:02d} {'behind' if seconds > 0 else 'ahead'}"


_NUMBERED_TITLE = re.compile(r"^\s*(?:look\s*#?\s*|#\s*)\d+\s*(?:[:.)\-–—]\s*)?", re.IGNORECASE)


def title_without_number(title: str | None) -> str:
    """A look's title without a walk-order number written into it ("Look 2: Velvet kaftan"
    -> "Velvet kaftan"): the number changes with every reorder, the title does not, so the
    screens show the current number beside the bare title. "" when the title was only a
    number."""
    text = (title or "").strip()
    return _NUMBERED_TITLE.sub("", text, count=1).strip()


def format_clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ShowRun:
    """Run state of a live show: the look on the runway, when it started, over/under.

    ``advance(now)`` sends the next look out and marks it walked (its ``walked_at`` is when it
    went out); ``back(now)`` takes the last one back (its status before is restored). The
    delta is how late the current look went out against plan, or, once the current look has
    overrun its slot, how late the next one will be if it goes now.
    """

    def __init__(self, lineup: Lineup) -> None:
        self.lineup = lineup
        self.current_index = -1
        self.started_at: datetime | None = None
        self.current_started_at: datetime | None = None
        self._undo: list[tuple[str, str, datetime | None, datetime | None]] = []
        self._resume_from_lineup()

    def _resume_from_lineup(self) -> None:
        """Pick up a show that is already running (walked looks in the replica)."""
        order = self.lineup.order
        walked = [i for i, a in enumerate(order) if a.status == "walked"]
        if not walked:
            return
        self.current_index = max(walked)
        self.started_at = self.lineup.show.actual_started_at or order[walked[0]].walked_at
        self.current_started_at = order[self.current_index].walked_at or self.started_at

    def set_lineup(self, lineup: Lineup) -> None:
        """Take a reloaded lineup, staying on the same look when it is still there."""
        current = self.current
        self.lineup = lineup
        if current is not None and lineup.get(current.id) is not None:
            self.current_index = lineup.index_of(current.id)
        else:
            self.current_index = min(self.current_index, len(lineup) - 1)

    @property
    def current(self) -> Appearance | None:
        if 0 <= self.current_index < len(self.lineup):
            return self.lineup.at(self.current_index)
        return None

    @property
    def finished(self) -> bool:
        """The last look is on the runway (or has walked)."""
        return len(self.lineup) > 0 and self.current_index == len(self.lineup) - 1

    def advance(self, now: datetime) -> Appearance | None:
        """Send the next look out. Returns the appearance now walking (None at the end)."""
        if self.current_index + 1 >= len(self.lineup):
            return None
        if self.started_at is None:
            self.started_at = now
        self.current_index += 1
        a = self.lineup.at(self.current_index)
        self._undo.append((a.id, a.status, a.walked_at, self.current_started_at))
        self.current_started_at = now
        return self.lineup.with_status(a.id, "walked", now)

    def back(self, now: datetime) -> Appearance | None:
        """Take the current look back. Returns the appearance restored (None at the start)."""
        if self.current_index < 0:
            return None
        a = self.lineup.at(self.current_index)
        if self._undo and self._undo[-1][0] == a.id:
            _, status, walked_at, prev_started = self._undo.pop()
        else:
            status, walked_at = "ready", None
            prev = self.lineup.at(self.current_index - 1) if self.current_index > 0 else None
            prev_started = prev.walked_at if prev else None
        restored = self.lineup.with_status(a.id, status, walked_at)
        self.current_index -= 1
        self.current_started_at = prev_started if self.current_index >= 0 else None
        if self.current_index < 0:
            self.started_at = None
        return restored

    def delta(self, now: datetime) -> float:
        """Seconds behind (> 0) or ahead (< 0) of the planned times."""
        if self.started_at is None or self.current_index < 0:
            return 0.0
        offsets = self.lineup.planned_offsets()
        started = self.current_started_at or now
        late_start = (started - self.started_at).total_seconds() - offsets[self.current_index]
        elapsed = (now - self.started_at).total_seconds()
        if self.current_index + 1 < len(offsets):
            next_planned = offsets[self.current_index + 1]
        else:
            next_planned = self.lineup.planned_duration
        overrun = elapsed - next_planned
        return max(late_start, overrun)

    def elapsed(self, now: datetime) -> float:
        if self.started_at is None:
            return 0.0
        return max(0.0, (now - self.started_at).total_seconds())

    def estimated_finish(self, now: datetime) -> datetime | None:
        from datetime import timedelta

        if self.started_at is None:
            if self.lineup.show.starts_at is None:
                return None
            return self.lineup.show.starts_at + timedelta(seconds=self.lineup.planned_duration)
        return self.started_at + timedelta(seconds=self.lineup.planned_duration + self.delta(now))

    def snapshot(self, now: datetime, next_count: int = 3) -> RunSnapshot:
        order = self.lineup.order
        i = self.current_index
        now_a = order[i] if 0 <= i < len(order) else None
        deck = order[i + 1] if i + 1 < len(order) else None
        nexts = order[i + 2 : i + 2 + next_count]
        quick = self.lineup.quick_change_by_second().get(deck.id) if deck else None
        return RunSnapshot(
            current_index=i,
            now=now_a,
            on_deck=deck,
            next_up=nexts,
            elapsed_s=self.elapsed(now),
            delta_s=self.delta(now),
            estimated_finish=self.estimated_finish(now),
            finished=self.finished,
            on_deck_quick_change=quick,
        )
