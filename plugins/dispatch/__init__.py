"""Rapid response: dispatch calls to verifiers, responders call-outs, on-call rotas
(README, "Rapid response: dispatch")."""

from plugins.dispatch.lines import CallLine, CallLines
from plugins.dispatch.plugin import Dispatch

PLUGIN = Dispatch

__all__ = ["PLUGIN", "CallLine", "CallLines", "Dispatch"]
