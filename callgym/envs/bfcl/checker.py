"""BFCL's per-turn verdict: the state check and the response check, turn by turn.

After each user turn BFCL runs that turn's ground-truth calls on a second set of backend
instances and asks two things: does every instance hold the same public state as the
ground truth's (``state_checker``), and do the results of every call the model made so far,
in any turn, contain each ground-truth result of this turn (``response_checker``)? A turn
with ground truth also needs at least one call from the model; a turn without (the model
should ask for what is missing) is not checked. Both checks are the wheel's own functions,
called here on results computed without ``eval``.
"""

from __future__ import annotations

from typing import Any

from callgym.envs.bfcl.backends import Scenario
from callgym.envs.bfcl.data import Entry


class TurnChecker:
    """Judges one episode's turns in order, against the ground truth run alongside.

    Args:
        entry: the BFCL entry.
        model: the backends the model's calls ran on (their state is compared).
    """

    def __init__(self, entry: Entry, model: Scenario) -> None:
        self.entry = entry
        self.model = model
        self.truth = Scenario(entry)
        self._turn_start = 0  # where this turn's results begin in model.log

    def check(self, turn: int) -> dict[str, Any]:
        """BFCL's verdict on turn ``turn``: ``{"valid": True}`` or the failing check's report."""
        from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import response_checker, state_checker

        truth_calls = self.entry.ground_truth_calls[turn]
        truth_results = [self.truth.run(call) for call in truth_calls]
        # model.log holds every result of every turn, as BFCL accumulates them.
        made_calls, self._turn_start = len(self.model.log) > self._turn_start, len(self.model.log)
        if not truth_calls:
            return {"valid": True}
        if not made_calls:
            return {
                "valid": False,
                "error_message": f"Model response list is empty for turn {turn}",
                "error_type": "multi_turn:empty_turn_model_response",
            }
        state = state_checker(self.model.instances, self.truth.instances)
        if not state["valid"]:
            return state
        return response_checker(list(self.model.log), truth_results, turn)
