"""One exception hierarchy for callgym.

Two families matter to callers:

* :class:`ModelError` subclasses describe a bad *model reply* (unparsable call, bad
  arguments, a call that would cost too much). Environments turn them into an
  observation the model can act on; they never reach the user as a traceback.
* :class:`UsageError` subclasses describe bad *user input* (flags, config files, data
  files, unknown names). The CLI prints their message as one line and exits 2.
"""

from __future__ import annotations

from callgym.error_types import ErrorType


class CallgymError(Exception):
    """Base class of every error callgym raises on purpose."""


class ModelError(CallgymError):
    """A model reply that cannot be executed; the message is written for the model.

    ``error_type`` says what kind of invalid reply it is (:mod:`callgym.error_types`); the
    raise site sets it, since that is where the kind is known. Each subclass has a default.
    """

    error_type: ErrorType = ErrorType.TOOL_ERROR

    def __init__(self, message: str = "", error_type: ErrorType | None = None) -> None:
        super().__init__(message)
        if error_type is not None:
            self.error_type = ErrorType(error_type)


class CallParseError(ModelError):
    """The reply holds no well-formed function call."""

    error_type = ErrorType.SYNTAX_ERROR


class ToolError(ModelError):
    """A call names a known tool but its arguments or its result are not acceptable."""

    error_type = ErrorType.TOOL_ERROR


class UsageError(CallgymError, ValueError):
    """Bad user input: the message names the value and the fix."""


class ConfigError(UsageError):
    """A bad configuration value or command-line flag."""


class DataError(UsageError):
    """A missing or malformed data file; the message names the file and line."""


class UnknownNameError(UsageError, KeyError):
    """An unknown env id, backend, agent or model name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ContractError(CallgymError, AssertionError):
    """An env breaks gymnasium's or callgym's contract (``callgym.envs.check_env``); one
    line per failed clause. An AssertionError too, so test runners report it as a failure."""


class BackendError(CallgymError):
    """A model backend failed (server down, garbage answers, out of retries)."""
