"""taskshift: an open, versioned dataset of how AI reshapes work, task by task."""
__version__ = "0.1.0"
