"""Dagster wiring: turns the catalog into assets, checks, jobs, sensors and schedules."""
