"""Rapid response: dispatch calls to verifiers, responders call-outs, on-call rotas
(README, "Rapid response: dispatch")."""

from plugins.dispatch.config import DISPATCH
from plugins.dispatch.lines import CallLine, CallLines
from plugins.dispatch.plugin import Dispatch
from plugins.dispatch.scene import Scene

PLUGIN = Dispatch

__all__ = ["DISPATCH", "PLUGIN", "CallLine", "CallLines", "Dispatch", "Scene"]
