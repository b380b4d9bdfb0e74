"""cityrank: the global city rankings a city government watches, in one warehouse."""

__version__ = "0.1.0"
