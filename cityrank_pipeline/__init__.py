"""cityrank: the global city rankings a city government watches, in one warehouse."""
