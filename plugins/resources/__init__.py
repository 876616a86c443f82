from plugins.resources.plugin import Resources

__all__ = ["Resources"]
