"""The Lineup tab: the runway walk order board (model/view), edit and show modes."""

from app.ui.lineup.tab import LineupTab

__all__ = ["LineupTab"]
