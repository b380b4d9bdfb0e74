"""The project loads with `dg` (pyproject's [tool.dg]) as well as with workspace.yaml."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DG = shutil.which("dg", path=str(Path(sys.executable).parent)) or shutil.which("dg")

pytestmark = pytest.mark.skipif(DG is None, reason="dg is not installed (pip install -e '.[test]' installs dagster-dg-cli)")


def _dg(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYRANK_", "DAGSTER_"))}
    env.update(CITYRANK_HOME=str(tmp_path / "home"), DAGSTER_HOME=str(tmp_path / "home" / "dagster"))
    (tmp_path / "home" / "dagster").mkdir(parents=True, exist_ok=True)
    return subprocess.run([DG, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def test_dg_check_defs(tmp_path):
    result = _dg("check", "defs", tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully" in result.stdout + result.stderr


def test_dg_list_defs_shows_the_same_assets_as_the_workspace(tmp_path):
    import json

    from cityrank_pipeline.definitions import defs

    result = _dg("list", "defs", "--json", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    keys = {asset["asset_key"] for asset in listed["assets"]}
    expected = {"/".join(k.path) for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert keys == expected and "gpci/warehouse_scores" in keys and "mart/release_brief" in keys
