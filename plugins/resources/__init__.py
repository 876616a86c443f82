"""`!rights` and `!hotline`: Know-Your-Rights text and the hotline number."""

from plugins.resources.plugin import Resources

PLUGIN = Resources

__all__ = ["PLUGIN", "Resources"]
