"""The command line end to end, as a user runs it: embedded PostgreSQL, Dagster, scorecard."""

import os
import subprocess
import sys

import psycopg
import pytest

from conftest import REPO, SHARED

# One home for the module, loaded once (a first run): its tests run in one pytest-xdist worker.
pytestmark = pytest.mark.xdist_group("test_cli")


def _cli(*args, env, check=True):
    result = subprocess.run([sys.executable, "-m", "cityrank_pipeline.cli", *args], env=env, cwd=REPO,
                            capture_output=True, text=True, timeout=900)
    if check and result.returncode != 0:
        raise AssertionError(f"cityrank {' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}")
    return result


@pytest.fixture(scope="module")
def embedded_env(tmp_path_factory):
    """A fresh CITYRANK_HOME with no database URL: the CLI must start its own server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYRANK_", "DAGSTER_"))}
    env["CITYRANK_HOME"] = str(tmp_path_factory.mktemp("cli") / "home")
    yield env
    _cli("db", "stop", env=env, check=False)


@pytest.fixture(scope="module")
def first_run(embedded_env):
    """The home's first `cityrank run` (it starts the server and loads every edition): what the
    tests that read the warehouse need, whichever of them runs first."""
    return _cli("run", env=embedded_env)


def _fact_state(url):
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*), coalesce(sum(xmin::text::bigint), 0) FROM warehouse.fact_city_score").fetchone()


def test_run_twice_prints_the_same_scorecard_and_writes_nothing_new(embedded_env, first_run):
    first = first_run
    url = _cli("db", "url", env=embedded_env).stdout.strip()
    assert url.startswith("postgresql://")
    state = _fact_state(url)
    second = _cli("run", env=embedded_env)
    assert second.stdout == first.stdout
    assert _fact_state(url) == state
    assert "54 up to date" in second.stderr
    lines = {line.split()[0]: line for line in first.stdout.splitlines() if line[:4].strip() in
             {"GCI", "GCO", "GPCI", "QOL", "EIU", "GSER", "GFCI", "CIMI", "GDCI"}}
    assert set(lines) == {"GCI", "GCO", "GPCI", "QOL", "EIU", "GSER", "GFCI", "CIMI", "GDCI"}
    assert "6/48" in lines["GPCI"] and "10/120" in lines["GFCI"] and "12/158" in lines["GCI"]
    assert "not disclosed" in lines["EIU"]
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM mart.city_scores").fetchone()[0] == state[0]
    data_rows = (REPO / "cityrank_pipeline/data/published_figures.csv").read_text().count("\n") - 1
    assert state[0] == data_rows


def test_scorecard_for_another_city(embedded_env, first_run):
    out = _cli("scorecard", "--city", "Tokyo", env=embedded_env).stdout
    assert out.startswith("Tokyo scorecard") and "GPCI   2025" in out


def test_reading_the_warehouse_imports_no_orchestration(embedded_env, first_run):
    """scorecard (like path, brief, status) only reads: it must not pay for Dagster, GX,
    pandas or SQLAlchemy at start-up (runner.py imports Dagster; prepare lives apart)."""
    probe = ("import sys\nfrom cityrank_pipeline.cli import main\nrc = main(['scorecard'])\n"
             "heavy = ('dagster', 'great_expectations', 'pandas', 'sqlalchemy', 'matplotlib')\n"
             "print(rc, [m for m in heavy if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", probe], env=embedded_env, cwd=REPO, capture_output=True, text=True,
                            timeout=300)
    assert result.stdout.splitlines()[-1] == "0 []", result.stderr[-2000:]


def test_catalog_lists_nine_indices(embedded_env):
    out = _cli("catalog", env=embedded_env).stdout
    indices = out.split("\nparsers and the real documents they have met:", 1)[0]
    assert sum(1 for line in indices.splitlines() if line[:4].strip() in
               {"GCI", "GCO", "GPCI", "QOL", "EIU", "GSER", "GFCI", "CIMI", "GDCI"}) == 9


@pytest.mark.skipif(not (SHARED / "publications/gpci/GPCI2013_en.pdf").exists(), reason="shared GPCI PDFs absent")
@pytest.mark.parametrize("year", ["2013", "2015"])
def test_extract_reproduces_the_expected_csv(embedded_env, year):
    out = subprocess.run([sys.executable, "-m", "cityrank_pipeline.cli", "extract", "gpci",
                          str(SHARED / f"publications/gpci/GPCI{year}_en.pdf")],
                         env=embedded_env, cwd=REPO, capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout == (SHARED / f"publications/gpci/expected/GPCI{year}_en.csv").read_bytes()


def test_extract_refuses_an_unknown_layout_with_one_line(embedded_env, tmp_path):
    bogus = tmp_path / "report.pdf"
    bogus.write_text("not a pdf at all")
    result = _cli("extract", "gpci", str(bogus), env=embedded_env, check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("cityrank: report.pdf") and result.stderr.count("\n") == 1


def test_every_command_has_help_and_is_in_the_readme():
    # The README links the reference; each command is described in docs/cli.md (tests/test_docs.py).
    readme = (REPO / "README.md").read_text() + (REPO / "docs" / "cli.md").read_text()
    from cityrank_pipeline.cli import build_parser

    def commands(parser):
        action = parser._subparsers._group_actions[0]
        return [(choice.dest, choice.help, action.choices[choice.dest]) for choice in action._choices_actions]

    for name, help_text, sub in commands(build_parser()):
        assert help_text, f"cityrank {name} has no help text"
        if name == "db":
            for db_name, db_help, _ in commands(sub):
                assert db_help, f"cityrank db {db_name} has no help text"
                assert f"cityrank db {db_name}" in readme, db_name
        else:
            assert f"cityrank {name}" in readme, name
