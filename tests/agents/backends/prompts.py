"""Chats shared by the backend tests (the embedded model answers them deterministically)."""

from __future__ import annotations

# The help-text format of the text protocol: a line per function, "Name(args)".
PRINT_HELP = "You can call functions.\n\nprint(value)\n    Print a value.\n    Example: print(1)\n"
MAX_TOOL = [
    {
        "type": "function",
        "function": {"name": "max", "description": "largest", "parameters": {"type": "object"}},
    }
]

CHATS = [
    [{"role": "user", "content": "Name three colors."}],
    [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What does print(1) do? A few words please."},
    ],
    [
        {
            "role": "user",
            "content": "Write a long story about a dragon who lives in a castle near the sea, "
            "with many details.",
        }
    ],
]
CALL_CHAT = [
    {"role": "system", "content": PRINT_HELP},
    {"role": "user", "content": "Write the Python expression print(1) and explain what it does."},
]
CALL_NAMES = [{"print"}]  # what CALL_CHAT offers, passed as an agent passes its env's toolset
MAX_CHAT = [
    {"role": "user", "content": "Show me how to call the function max(3, 7) in Python and what it returns."}
]
