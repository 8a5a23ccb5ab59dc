"""A whole episode's result as one text: the lm-eval model ``callgym``'s generation for an
agent task, and what the task's ``process_results`` reads back to score it.

lm-eval hands a model's generation to the task as text. For an agent task that generation
is a whole episode, so the text carries what the task needs to judge it as the env did:
every reply the env received, in order. The task replays them in a fresh env and scores the
env's verdict (its reward: the answer check for FOL and GSM8K, BFCL's state and response
checks for a BFCL conversation), so the same code scores every env, and a generation that
merely claims ``"correct": true`` earns nothing. The episode's own outcome (final answer
call, answer, reward) rides along for readers of lm-eval's logged samples.

>>> from callgym.episode import Episode, Step
>>> ep = Episode("callgym/GSM8K-v0", 0, steps=[Step("Answer(value=18)", "Recorded.", "Answer(value=18)")],
...              answer="18", reward=1.0, correct=True, terminated=True)
>>> text = dumps(ep)
>>> loads(text).replies, loads(text).answer_call
(('Answer(value=18)',), 'Answer(value=18)')
>>> loads("Answer(value=18)") is None  # another lm-eval model's reply
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from callgym import json_text
from callgym.episode import Episode

FORMAT = "callgym-episode/1"  # marks the text as an episode result, and its version


@dataclass(frozen=True)
class EpisodeResult:
    """What an agent task's generation says about the episode it played.

    Attributes:
        replies: every reply the env received, in order (bootstrap calls included).
        answer_call: the final answer call as the env ran it ("" when the episode gave none,
            and always for a conversation env, which has no answer call).
        answer: the episode's answer as the env recorded it (for a conversation env: the
            number of user turns that passed), None when it gave none.
        reward: the episode's reward as the env gave it while playing.
    """

    replies: tuple[str, ...]
    answer_call: str = ""
    answer: str | None = None
    reward: float = 0.0


def final_answer_call(episode: Episode) -> str:
    """The episode's answer call as the env executed it, or "" when it never answered."""
    last = episode.steps[-1] if episode.steps else None
    return last.call if episode.terminated and last is not None and last.call else ""


def dumps(episode: Episode) -> str:
    """The episode's result as one line of JSON (lone surrogates escaped, see :mod:`callgym.json_text`)."""
    return json_text.dumps({
        "format": FORMAT,
        "answer_call": final_answer_call(episode),
        "answer": episode.answer,
        "reward": episode.reward,
        "replies": [s.action for s in episode.steps],
    })


def loads(text: Any) -> EpisodeResult | None:
    """The episode result ``text`` holds, or None when it is not one (e.g. another model's
    plain reply). Never raises: a generation is untrusted text."""
    if not isinstance(text, str) or not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    replies, answer = data.get("replies"), data.get("answer")
    if not isinstance(replies, list) or not all(isinstance(r, str) for r in replies):
        return None
    reward = data.get("reward")
    return EpisodeResult(
        tuple(replies),
        data["answer_call"] if isinstance(data.get("answer_call"), str) else "",
        None if answer is None else str(answer),
        float(reward) if isinstance(reward, (int, float)) and not isinstance(reward, bool) else 0.0,
    )
