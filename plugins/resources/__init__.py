"""`!rights` and `!hotline`: Know-Your-Rights text and the hotline number (SPEC section 7)."""

from plugins.resources.plugin import Resources

PLUGIN = Resources

__all__ = ["PLUGIN", "Resources"]
