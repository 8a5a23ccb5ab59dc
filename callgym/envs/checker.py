"""``check_env``: gymnasium's env checker plus callgym's contract, for any tool env.

Run it in your own env's tests (callgym runs it on its own envs the same way)::

    >>> from callgym.envs import check_env
    >>> check_env("callgym/GSM8K-v0", n=3)

Each clause that fails adds one line saying what broke and on which problem; all of them
are raised together as a :class:`~callgym.errors.ContractError`.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Callable
from typing import Any

import gymnasium as gym

from callgym.errors import ContractError

# Replies that can never be a valid call: each must come back as an error observation, never
# as a crash, a hang or a side effect (code injection, unbalanced or deeply nested text, huge
# numbers, megabytes of text, JSON objects where literals belong, empty replies). The wider
# corpus of callgym.testing.hostile is checked for bounded cost only (some of it is valid).
HOSTILE_REPLIES: tuple[str, ...] = (
    "__import__('os').system('touch /tmp/callgym-pwned')",
    "Sum(a=open('/etc/passwd'), b=1)",
    'Premise("unclosed',
    "Answer(" + "(" * 5000,
    "x" * 1_000_000,
    "Calculator('9**99999999')",
    "Answer(9**99999999)",
    "Answer(1e999999)",
    "Answer(" + "[" * 200 + "]" * 200 + ")",
    '{"name": "Answer", "arguments": {"value": {"__class__": 1}}}',
    "NoSuchTool(1)",
    "",
)
HOSTILE_SAMPLE_CHARS = 20_000  # each shape of callgym.testing.hostile at this size
# A step costs milliseconds (benchmarks/hostile_replies.py measures it); the contract's bound
# only has to catch a scan gone quadratic or a hang, on a machine that may be busy tenfold.
STEP_SECONDS = 5.0
INFO_AT_RESET = ("messages", "tools", "index", "difficulty")
INFO_AT_STEP = (*INFO_AT_RESET, "step", "invalid_calls", "call")
INFO_AT_END = ("correct", "answer", "gold")


def check_env(env_or_id: gym.Env | str, n: int = 10, *, seed: int = 0, **env_kwargs: Any) -> None:
    """Check that an env keeps gymnasium's and callgym's contracts.

    Clauses: gymnasium's ``check_env`` passes without warnings; it is a
    :class:`~callgym.envs.base.ToolEnv`; ``reset(seed=s, options={"index": i})`` rebuilds
    problem *i* exactly; ``info`` carries what rollouts, pairs and the leaderboard read; the
    oracle chain scores 1.0 on each checked problem; hostile replies come back as error
    observations within :data:`STEP_SECONDS`; the invalid-call limit truncates; the system
    prompt shows every tool.

    Args:
        env_or_id: an env id (made with ``env_kwargs``) or an env instance. An id is made
            afresh for every clause; an instance is reused (reset between clauses).
        n: how many problems (indices 0..n-1, fewer when the source is smaller) to check.
        seed: the seed of every reset.
        **env_kwargs: keyword arguments for ``callgym.envs.make`` when given an id.

    Raises:
        ContractError: one line per failed clause.
    """
    from callgym.envs import make

    if isinstance(env_or_id, str):
        name = env_or_id
        factory: Callable[[], gym.Env] = lambda: make(env_or_id, **env_kwargs)  # noqa: E731
    else:
        name = env_or_id.spec.id if env_or_id.spec is not None else type(env_or_id.unwrapped).__name__
        factory = lambda: env_or_id  # noqa: E731
    failures = _failures(factory, n, seed)
    if failures:
        raise ContractError(f"{name} breaks the env contract:\n" + "\n".join(f"- {f}" for f in failures))


def _failures(factory: Callable[[], gym.Env], n: int, seed: int) -> list[str]:
    from callgym.envs.base import ToolEnv

    env = factory()
    if not isinstance(env.unwrapped, ToolEnv):
        return [f"not a callgym ToolEnv ({type(env.unwrapped).__name__}); subclass callgym.envs.base.ToolEnv"]
    failures = _clause("gymnasium's check_env", lambda: _gymnasium_checker(env))
    total = env.unwrapped.num_problems()
    indices = range(min(n, total) if total is not None else n)
    if not indices:
        return [*failures, f"num_problems() is {total}: the env has no problem to check"]
    for clause, check in (
        ("reset by seed and index", lambda: _reproducible(factory, indices, seed)),
        ("oracle chain", lambda: _oracle_scores_one(factory(), indices, seed)),
        ("hostile replies", lambda: _hostile_replies(factory(), seed)),
        ("invalid-call limit", lambda: _limit_truncates(factory(), seed)),
        ("tools in the prompt", lambda: _tools_in_prompt(factory(), seed)),
    ):
        failures += _clause(clause, check)
    return failures


def _clause(clause: str, check: Callable[[], list[str] | None]) -> list[str]:
    """Run one clause; a crash is a failure of that clause, not of the checker."""
    try:
        return [f"{clause}: {problem}" for problem in check() or []]
    except Exception as e:  # noqa: BLE001 - foreign env code may raise anything
        return [f"{clause}: raised {type(e).__name__}: {_first_line(e)}"]


def _gymnasium_checker(env: gym.Env) -> None:
    from gymnasium.utils.env_checker import check_env as gymnasium_check_env

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a checker warning is a contract break too
        # gymnasium checks other render modes by re-making the env from its spec
        gymnasium_check_env(env.unwrapped, skip_render_check=env.unwrapped.spec is None)


def _reproducible(factory: Callable[[], gym.Env], indices: range, seed: int) -> list[str]:
    problems = []
    for index in indices:
        first, second = _play_oracle(factory(), index, seed), _play_oracle(factory(), index, seed)
        if first != second:
            problems.append(f"problem {index}: two resets with seed={seed} gave different episodes; "
                            "build problem i from (seed, i) alone, e.g. random.Random(f'{seed}-{i}')")
        without_index = [factory().reset(seed=seed)[1].get("index") for _ in range(2)]
        if without_index[0] != without_index[1]:
            problems.append(
                f"reset(seed={seed}) without an index chose {without_index}; choose with self.np_random"
            )
            break
    return problems


def _play_oracle(env: gym.Env, index: int, seed: int) -> list[Any]:
    obs, info = env.reset(seed=seed, options={"index": index})
    trace: list[Any] = [obs, info.get("messages"), info.get("difficulty"), env.unwrapped.problem]
    for action in _oracle_calls(env):
        obs, reward, terminated, truncated, info = env.step(action)
        trace.append((obs, reward, terminated, truncated))
        if terminated or truncated:
            break
    return trace


def _oracle_calls(env: gym.Env) -> list[str]:
    """The problem's gold chain, or a bare answer call when it has none (as the oracle agent does)."""
    tool_env = env.unwrapped
    problem = tool_env.problem
    return list(problem.gold_calls) or [f"{tool_env.answer_tool}({problem.answer!r})"]


def _oracle_scores_one(env: gym.Env, indices: range, seed: int) -> list[str]:
    problems = []
    for index in indices:
        obs, info = env.reset(seed=seed, options={"index": index})
        problems += _missing(info, INFO_AT_RESET, "reset")
        if info.get("index") != index:
            problems.append(f"reset(options={{'index': {index}}}) put index={info.get('index')!r} in info")
        reward, ended = 0.0, False
        for action in _oracle_calls(env):
            obs, reward, terminated, truncated, info = env.step(action)
            problems += _missing(info, INFO_AT_STEP, "step")
            if obs.startswith("Error"):
                problems.append(f"problem {index}: gold call {action!r} was refused: {_first_line(obs)}")
            if terminated or truncated:
                ended = terminated
                break
        if not ended or reward != 1.0 or info.get("correct") is not True:
            problems.append(
                f"problem {index}: the gold chain scored {reward} (terminated={ended}, "
                f"correct={info.get('correct')!r}); it must end with the answer call and score 1.0"
            )
        else:
            problems += _missing(info, INFO_AT_END, "the last step")
        if problems:
            break  # the first broken problem says enough
    return sorted(set(problems), key=problems.index)


def _missing(info: dict[str, Any], keys: tuple[str, ...], where: str) -> list[str]:
    absent = [k for k in keys if k not in info]
    return (
        [f"info at {where} lacks {', '.join(absent)} (rollouts, pairs and the leaderboard read them)"]
        if absent
        else []
    )


def _hostile_replies(env: gym.Env, seed: int) -> list[str]:
    """The replies that can never be a valid call must be refused; every reply of callgym's
    hostile corpus (a sample of each shape, and its fixed cases) must come back in bounded time."""
    from callgym.testing.hostile import replies

    corpus = [text for _, text in replies(HOSTILE_SAMPLE_CHARS)]
    return _refused(env, seed) + _bounded(env, seed, corpus)


def _bounded(env: gym.Env, seed: int, corpus: list[str]) -> list[str]:
    problems = []
    for reply in corpus:
        env.reset(seed=seed, options={"index": 0})
        started = time.perf_counter()
        obs = env.step(reply)[0]
        seconds = time.perf_counter() - started
        if not isinstance(obs, str) or seconds > STEP_SECONDS:
            problems.append(
                f"reply {_shown(reply)} took {seconds:.2f} s (limit {STEP_SECONDS} s) or gave no text"
            )
    return problems


def _shown(reply: str) -> str:
    return repr(reply[:40]) + ("..." if len(reply) > 40 else "")


def _refused(env: gym.Env, seed: int) -> list[str]:
    problems = []
    for reply in HOSTILE_REPLIES:
        env.reset(seed=seed, options={"index": 0})
        started = time.perf_counter()
        obs, reward, terminated, _, info = env.step(reply)
        seconds = time.perf_counter() - started
        shown = _shown(reply)
        if env.unwrapped.answer_tool is None:  # a conversation env: a reply without a call ends the turn
            if not isinstance(obs, str) or reward != 0.0:
                problems.append(f"reply {shown} must give a text observation and reward 0.0")
        elif not (isinstance(obs, str) and obs.startswith("Error:")) or reward != 0.0 or terminated:
            problems.append(
                f"reply {shown} was not refused with an 'Error: ...' observation (got {_first_line(obs)!r})"
            )
        elif info.get("invalid_calls") != 1 or info.get("call") is not None:
            problems.append(
                f"reply {shown}: info must count it as an invalid call (invalid_calls=1, call=None)"
            )
        if seconds > STEP_SECONDS:
            problems.append(
                f"reply {shown} took {seconds:.2f} s (limit {STEP_SECONDS} s); bound every parse and tool"
            )
    return problems


def _limit_truncates(env: gym.Env, seed: int) -> list[str]:
    _, info = env.reset(seed=seed, options={"index": 0})
    limit = env.unwrapped.max_invalid
    # In a conversation env a reply without a call ends the turn: call a known function badly.
    tools = info.get("tools") or [{"function": {"name": "Answer"}}]
    unreadable = "not a call" if env.unwrapped.answer_tool else tools[0]["function"]["name"] + '("unclosed'
    for _ in range(limit):
        _, _, terminated, truncated, info = env.step(unreadable)
        if terminated or truncated:
            break
    if not truncated or terminated or info.get("correct") is not False:
        return [f"{limit} invalid calls (max_invalid) did not truncate the episode with correct=False"]
    return []


def _tools_in_prompt(env: gym.Env, seed: int) -> list[str]:
    _, info = env.reset(seed=seed, options={"index": 0})
    system = info["messages"][0]["content"] if info.get("messages") else ""
    names = [schema["function"]["name"] for schema in info.get("tools") or []]
    # A signature like name(...), or a JSON doc with "name": "..." (BFCL's prompt lists those).
    absent = [name for name in names if f"{name}(" not in system and f'"{name}"' not in system]
    if not names:
        return ["info['tools'] is empty: the env offers no function to call"]
    return [f"the system prompt does not show {', '.join(absent)}(...)"] if absent else []


def _first_line(value: object) -> str:
    lines = re.sub(r"\x1b\[[0-9;]*m", "", str(value)).strip().splitlines()  # gymnasium colours its warnings
    return lines[0][:200] if lines else ""
