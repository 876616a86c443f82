"""Rapid response: dispatch calls to verifiers, responders call-outs, on-call rotas
(SPEC section 10)."""

from plugins.dispatch.plugin import Dispatch

PLUGIN = Dispatch

__all__ = ["PLUGIN", "Dispatch"]
