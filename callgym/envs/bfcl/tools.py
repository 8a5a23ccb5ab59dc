"""BFCL's function docs as callgym tools, offered in both protocols.

The text protocol lists the docs as JSON in BFCL's own default system prompt; the native
protocol passes them to the chat template's ``tools=`` in OpenAI form (BFCL's type names
mapped as its OpenAI handlers map them). Calls reach the backend methods with their
arguments untouched (no coercion: BFCL passes the model's literals as they are).
"""

from __future__ import annotations

import copy
import inspect
import json
from dataclasses import dataclass, field
from typing import Any

from callgym.calls import Call
from callgym.envs.bfcl.backends import Scenario
from callgym.tools import Parameter, Tool, Toolset

# BFCL's type names -> Python annotations (for the random baseline's arguments).
PYTHON_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "float": float,
    "boolean": bool,
    "array": list,
    "dict": dict,
}
EXAMPLE_VALUES: dict[str, str] = {
    "string": '"text"',
    "integer": "1",
    "float": "1.0",
    "boolean": "True",
    "array": "[]",
    "dict": "{}",
}


@dataclass(frozen=True)
class BfclTool(Tool):
    """A backend method with BFCL's doc for it."""

    doc: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_doc(cls, doc: dict[str, Any], scenario: Scenario) -> BfclTool:
        properties = doc["parameters"].get("properties", {})
        required = set(doc["parameters"].get("required", []))
        parameters = tuple(
            Parameter(
                name,
                PYTHON_TYPES.get(spec.get("type"), Any),
                inspect.Parameter.empty if name in required else spec.get("default"),
                spec.get("description", ""),
            )
            for name, spec in properties.items()
        )
        example_args = ", ".join(
            f"{p.name}={EXAMPLE_VALUES.get(properties[p.name].get('type'), '1')}"
            for p in parameters
            if p.required
        )
        name = doc["name"]
        return cls(
            name,
            lambda *a, **k: scenario.run(Call(name, a, k)),
            doc["description"],
            f"{name}({example_args})",
            parameters,
            doc,
        )

    def help_text(self) -> str:
        return json.dumps(self.doc, indent=4)

    def schema(self) -> dict[str, Any]:
        return {"type": "function", "function": openai_function(self.doc)}

    def __call__(self, call: Call) -> Any:
        return self.fn(*call.args, **call.kwargs)


class BfclToolset(Toolset):
    """The documented functions of one episode; any public backend method is callable, as
    in BFCL (a held-out function still runs if the model guesses it)."""

    def __init__(self, docs: list[dict[str, Any]], scenario: Scenario) -> None:
        self.scenario = scenario
        super().__init__(BfclTool.from_doc(d, scenario) for d in docs)

    @property
    def callable_names(self) -> dict[str, Any]:
        return self.scenario.methods

    def add(self, docs: list[dict[str, Any]]) -> None:
        """Offer more functions from now on (BFCL's miss_func turns)."""
        for doc in docs:
            self.tools[doc["name"]] = BfclTool.from_doc(doc, self.scenario)
        self._schemas = None

    def help_text(self) -> str:
        return json.dumps([t.doc for t in self.tools.values() if isinstance(t, BfclTool)], indent=4)

    def execute(self, call: Call) -> str:
        # Every outcome, errors included, is the backend's result text, as in BFCL.
        return self.scenario.run(call)


def openai_function(doc: dict[str, Any]) -> dict[str, Any]:
    """BFCL's doc in OpenAI's function form (BFCL's ``convert_to_tool`` for OpenAI models)."""
    from bfcl_eval.constants.type_mappings import GORILLA_TO_OPENAPI

    doc = copy.deepcopy(doc)
    doc.pop("response", None)
    doc["parameters"]["type"] = "object"
    doc["parameters"]["properties"] = _openai_types(
        doc["parameters"].get("properties", {}), GORILLA_TO_OPENAPI
    )
    return doc


def _openai_types(properties: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    for spec in properties.values():
        if spec.get("type") == "float":
            spec["format"] = "float"
        spec["type"] = mapping.get(spec.get("type", "string"), "string")
        if "properties" in spec:
            spec["properties"] = _openai_types(spec["properties"], mapping)
        if isinstance(spec.get("items"), dict):
            spec["items"] = _openai_types({"item": spec["items"]}, mapping)["item"]
    return properties
