"""BFCL's multi-turn categories as callgym environments.

The Berkeley Function Calling Leaderboard ships its conversations, ground truth and
executable backends (a file system, a math API, trading, travel, vehicle, messaging, posting
and ticket APIs) in the ``bfcl-eval`` wheel, installed with ``--no-deps``. callgym reads the
data from it and runs its backend classes, but never its ``eval()`` path: replies are parsed
by :mod:`callgym.calls` and dispatched to the class methods by name.

* :mod:`.data`: the entries of each category (conversation, initial state, ground truth).
* :mod:`.backends`: one entry's backend instances and BFCL-exact dispatch of calls.
* :mod:`.tools`: BFCL's function docs as callgym tools (text help and native ``tools=``).
* :mod:`.checker`: BFCL's per-turn state and response checks.
* :mod:`.env`: the envs ``callgym/BFCL-MultiTurn{Base,MissFunc,MissParam,LongContext}-v0``.
"""
