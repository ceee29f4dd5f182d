"""Type stubs of the native module ``pitstop._native`` (checked by ``mypy.stubtest``)."""

import os
from typing import Any, Dict, List, Mapping, Optional, Tuple, Type, Union, final

__all__ = [
    "AccessDenied",
    "AlreadyExists",
    "Blocked",
    "Closed",
    "Corrupted",
    "ERRORS",
    "Engine",
    "HoldNotActive",
    "IdempotencyConflict",
    "InsufficientPoints",
    "Internal",
    "InvalidArgument",
    "InvalidProgram",
    "InvalidRequest",
    "Io",
    "Locked",
    "NoProgram",
    "NotFound",
    "PitstopError",
    "PluginAbiMismatch",
    "PluginBadOutput",
    "PluginFailed",
    "PluginForbiddenImport",
    "PluginFuelExhausted",
    "PluginInvalid",
    "PluginInvalidEffect",
    "PluginMemoryLimit",
    "PluginOutputTooLarge",
    "PluginTimeout",
    "PluginTrap",
    "RefundExceedsVisit",
    "TierRequired",
    "TooLarge",
    "Unavailable",
    "UnknownOperation",
    "UnsupportedVersion",
    "__version__",
    "operations",
    "restore",
]
__version__: str

def operations() -> List[Tuple[str, bool, str]]:
    """Every operation of the contract: ``(name, changes_state, summary)``."""

def restore(
    backup: Union[str, os.PathLike[str]],
    path: Union[str, os.PathLike[str]],
    options: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """Restore a backup into a new store at ``path``: ``{records, bytes, sha256, seq}``."""

@final
class Engine:
    """An open Pitstop store (thread-safe)."""

    def __new__(cls, path: Union[str, os.PathLike[str]], options: Optional[Dict[str, Any]] = None) -> Engine: ...
    def execute(self, op: str, args: Any = None) -> Any: ...
    def execute_json(self, request: str) -> str: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def path(self) -> str: ...

class PitstopError(Exception):
    """Base class of every error Pitstop reports."""

    code: Optional[str]
    message: str
    details: Any

class InvalidRequest(PitstopError):
    """`invalid_request`: the request is not a JSON object of the expected shape."""

class UnknownOperation(PitstopError):
    """`unknown_operation`: the operation name is not known."""

class InvalidArgument(PitstopError):
    """`invalid_argument`: an argument is invalid (format, range, length)."""

class NotFound(PitstopError):
    """`not_found`: the referenced customer, card, vehicle, visit or hold does not exist."""

class AlreadyExists(PitstopError):
    """`already_exists`: a unique value is already taken; details name the owner."""

class InsufficientPoints(PitstopError):
    """`insufficient_points`: not enough available points."""

class IdempotencyConflict(PitstopError):
    """`idempotency_conflict`: the idempotency key was used with other arguments."""

class InvalidProgram(PitstopError):
    """`invalid_program`: the programme is invalid; details.problems lists every problem."""

class NoProgram(PitstopError):
    """`no_program`: no programme has been set yet."""

class Blocked(PitstopError):
    """`blocked`: the customer or card is blocked."""

class RefundExceedsVisit(PitstopError):
    """`refund_exceeds_visit`: the refund asks for more than remains of the visit."""

class HoldNotActive(PitstopError):
    """`hold_not_active`: the hold was already captured, released or expired."""

class TooLarge(PitstopError):
    """`too_large`: a request, string or list exceeds its limit."""

class Locked(PitstopError):
    """`locked`: the store is already open elsewhere."""

class Corrupted(PitstopError):
    """`corrupted`: the store's files are damaged."""

class UnsupportedVersion(PitstopError):
    """`unsupported_version`: the store was written by an unknown format version."""

class Io(PitstopError):
    """`io`: the operating system reported an I/O failure."""

class Closed(PitstopError):
    """`closed`: the engine is closed or failed."""

class PluginFailed(PitstopError):
    """`plugin_failed`: a plugin returned an error object of its own (checkout refused when its on_error is fail)."""

class Internal(PitstopError):
    """`internal`: an internal error (a bug); nothing was changed."""

class PluginInvalid(PitstopError):
    """`plugin_invalid`: the plugin module is not valid WebAssembly or lacks a required export."""

class PluginAbiMismatch(PitstopError):
    """`plugin_abi_mismatch`: the plugin module was built for another plugin ABI version."""

class PluginForbiddenImport(PitstopError):
    """`plugin_forbidden_import`: the plugin module imports something the sandbox does not offer (WASI, clock, randomness)."""

class PluginTrap(PitstopError):
    """`plugin_trap`: the plugin trapped (unreachable, out-of-bounds access, stack overflow)."""

class PluginFuelExhausted(PitstopError):
    """`plugin_fuel_exhausted`: the plugin used up its instruction budget (fuel)."""

class PluginTimeout(PitstopError):
    """`plugin_timeout`: the plugin ran past its wall-time limit."""

class PluginMemoryLimit(PitstopError):
    """`plugin_memory_limit`: the plugin tried to grow its memory beyond its limit."""

class PluginOutputTooLarge(PitstopError):
    """`plugin_output_too_large`: the plugin returned more bytes than its output limit."""

class PluginBadOutput(PitstopError):
    """`plugin_bad_output`: the plugin's output is not valid JSON of the output schema, or lies outside its memory."""

class PluginInvalidEffect(PitstopError):
    """`plugin_invalid_effect`: a plugin effect failed validation (discount above its line, missing line, absurd bonus, unknown field)."""

class TierRequired(PitstopError):
    """`tier_required`: a basket line is in the exclusive catalogue of a higher tier than the customer's; details.lines name each line and the tier it needs."""

class Unavailable(PitstopError):
    """`unavailable`: the shared store (PostgreSQL) cannot be reached or is busy past its wait limit, or a write kept meeting other processes' writes to the same customer or figure (details.conflict; Pitstop already ran it 12 times); nothing was changed (unless details.outcome_unknown: then retry with the same idempotency_key); retryable."""

class AccessDenied(PitstopError):
    """`access_denied`: the database refused the login (wrong user or password) or the access."""

ERRORS: Dict[str, Type[PitstopError]]
"""The exception class of every error code."""
