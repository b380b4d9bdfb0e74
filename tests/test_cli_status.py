"""`cityrank status`, and the home found the same way from any directory of a project."""

import psycopg

from cityrank_pipeline.cli import main
from cityrank_pipeline.settings import find_home, load_settings
from cityrank_pipeline.status import read_status

from test_views_fixture import load_real_figures


def _project(root):
    (root / "assets").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (root / "sql" / "views").mkdir(parents=True)
    return root


def test_the_home_is_the_same_from_any_folder_of_a_project(tmp_path, monkeypatch):
    project = _project(tmp_path / "project")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert find_home(project, project_root=elsewhere) == (project / ".cityrank", f"the project folder {project}")
    assert find_home(project / "sql" / "views", project_root=elsewhere)[0] == project / ".cityrank"
    # An existing .cityrank folder wins, wherever it is above the current folder.
    (tmp_path / ".cityrank").mkdir()
    assert find_home(elsewhere, project_root=project)[0] == tmp_path / ".cityrank"
    # Outside any project: the home of the project cityrank runs from, never a new one in the current folder.
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    home, how = find_home(outside, project_root=project)
    assert home == project / ".cityrank" and "outside any project folder" in how
    monkeypatch.chdir(project / "sql")
    settings = load_settings({"CITYRANK_PROJECT_ROOT": str(elsewhere)})
    assert settings.home == project / ".cityrank" and settings.home_found_by == f"the project folder {project}"
    assert load_settings({"CITYRANK_HOME": str(outside / "h")}).home_found_by == "CITYRANK_HOME"


def test_status_of_a_stopped_embedded_server_starts_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("CITYRANK_DATABASE_URL", raising=False)
    monkeypatch.setenv("CITYRANK_HOME", str(tmp_path / "home"))
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert f"home:    {tmp_path / 'home'} (not created yet" in out
    assert "found by CITYRANK_HOME" in out
    assert "not running (`cityrank run` or `cityrank db url` starts it)" in out
    assert "loaded:  unknown while the server is stopped" in out
    assert not (tmp_path / "home").exists()


def test_status_lists_what_is_loaded_and_what_is_overdue(cityrank_env, migrated_url, catalog, tmp_path, capsys):
    assert main(["status"]) == 0
    assert "loaded:  nothing yet: run `cityrank run` first" in capsys.readouterr().out
    load_real_figures(cityrank_env.database_url, catalog, tmp_path / "raw", indices=("GFCI", "CIMI"),
                      editions={("GFCI", "GFCI 37"), ("GFCI", "GFCI 38"), ("CIMI", "2019")})
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "external (CITYRANK_DATABASE_URL = " in out
    assert "loaded:  3 edition(s) of 2 index(es)" in out
    assert "GFCI   2: GFCI 37 … GFCI 38" in out and "CIMI   1: 2019" in out
    with psycopg.connect(cityrank_env.database_url) as conn:
        overdue = [r[0] for r in conn.execute(
            "SELECT index_code FROM mart.release_calendar WHERE status = 'overdue' ORDER BY 1").fetchall()]
    status = read_status(load_settings())
    assert [code for code, _, _ in status.overdue] == overdue and overdue  # never-loaded indices are overdue
    for code in overdue:
        assert any(line.strip().startswith(code) and "expected" in line for line in out.splitlines())
