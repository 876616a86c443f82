"""Subscriptions: confirmed alerts by direct message, with no member list to leak."""

from plugins.subscriptions.plugin import SubscriptionsPlugin

PLUGIN = SubscriptionsPlugin

__all__ = ["PLUGIN", "SubscriptionsPlugin"]
