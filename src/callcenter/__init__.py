"""callcenter: an open-source call center."""

__version__ = "0.1.0"
