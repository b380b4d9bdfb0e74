"""The `<code>_new_editions` sensor: first tick, nothing new, one new, several new.

Editions reach the raw store's registry from the poll job, `cityrank ingest` or the landing
folder; the sensor turns each new (edition, file) into a partition and a run keyed
`edition:sha256`. Ticks are evaluated directly with an ephemeral instance, carrying the cursor
from one tick to the next as the daemon does.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from cityrank_pipeline.ingest import ingest_publication
from cityrank_pipeline.orchestration.assets import build_index_assets, partitions_for
from cityrank_pipeline.orchestration.jobs import build_edition_job
from cityrank_pipeline.orchestration.resources import CityrankResource
from cityrank_pipeline.orchestration.sensors import build_new_edition_sensor
from cityrank_pipeline.snapshots import Quarantine, RawStore

PUBLISHERS = Path(__file__).resolve().parent / "fixtures" / "publishers"
GFCI35 = (PUBLISHERS / "gfci" / "gfci35_report_extract.pdf").read_bytes()
GFCI38 = (PUBLISHERS / "gfci" / "gfci38_report_extract.pdf").read_bytes()
GDCI19 = (PUBLISHERS / "gdci" / "gdci2019_report_extract.pdf").read_bytes()


class Ticker:
    """Evaluates one index's sensor tick after tick, applying its partition requests to the
    instance and keeping its cursor, like the sensor daemon."""

    def __init__(self, catalog, code: str, home: Path, *, as_daemon: bool = False):
        self.catalog, self.code, self.home = catalog, code, home
        self.sensor = build_new_edition_sensor(catalog[code])
        self.resources = {"cityrank": CityrankResource(home=str(home))}
        self.as_daemon = as_daemon
        if as_daemon:
            # The daemon's path: Dagster resolves partitioned run requests against the job and
            # the partitions the instance holds after the tick, which needs a persisted instance
            # (with a ref) and the repository. Slower, so one test takes it; the rest invoke
            # the sensor function directly on an in-memory instance.
            (home.parent / "dagster").mkdir(parents=True, exist_ok=True)
            self.instance = dg.DagsterInstance.local_temp(str(home.parent / "dagster"))
            self.repository = dg.Definitions(
                assets=build_index_assets(catalog[code]), jobs=[build_edition_job(catalog[code])],
                sensors=[self.sensor], resources=self.resources).get_repository_def()
        else:
            self.instance = dg.DagsterInstance.ephemeral()
        self.cursor: str | None = None
        self.store = RawStore(home / "raw")
        self.quarantine = Quarantine(home / "quarantine")

    def register(self, data: bytes, name: str):
        """A publication arriving the way the poll job or `cityrank ingest` brings it."""
        result = ingest_publication(self.catalog, self.store, self.quarantine, self.code, data,
                                    original_name=name, kind="web", source_url=f"https://example.org/{name}")
        assert result.status == "new", result.reason
        return result

    def tick(self):
        if self.as_daemon:
            context = dg.build_sensor_context(instance=self.instance, instance_ref=self.instance.get_ref(),
                                              cursor=self.cursor, resources=self.resources, repository_def=self.repository)
            data = self.sensor.evaluate_tick(context)
        else:
            data = self.sensor(dg.build_sensor_context(instance=self.instance, cursor=self.cursor, resources=self.resources))
        for request in data.dynamic_partitions_requests or []:
            self.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        self.cursor = data.cursor
        return data

    @property
    def partitions(self) -> list[str]:
        return sorted(self.instance.get_dynamic_partitions(partitions_for(self.code).name))


@pytest.fixture
def gfci(catalog, tmp_path):
    return Ticker(catalog, "GFCI", tmp_path / "home")


@pytest.fixture
def gfci_daemon(catalog, tmp_path):
    return Ticker(catalog, "GFCI", tmp_path / "home", as_daemon=True)


def run_keys(data) -> list[str]:
    return [r.run_key for r in data.run_requests]


def test_first_tick_with_nothing_registered_requests_nothing(gfci):
    data = gfci.tick()
    assert data.run_requests == [] and not data.dynamic_partitions_requests
    assert json.loads(data.cursor) == {"editions": {}, "landing": {}}
    assert gfci.partitions == []


def test_first_tick_requests_every_edition_already_registered(gfci):
    """Editions registered before the sensor ever ran (e.g. by `cityrank ingest`) are not lost."""
    older, newer = gfci.register(GFCI35, "GFCI_35.pdf"), gfci.register(GFCI38, "GFCI_38.pdf")
    data = gfci.tick()
    assert run_keys(data) == [older.run_key, newer.run_key]  # oldest edition first
    assert gfci.partitions == ["GFCI 35", "GFCI 38"]


def test_nothing_new_requests_nothing(gfci):
    gfci.register(GFCI38, "GFCI_38.pdf")
    gfci.tick()
    again = gfci.tick()
    assert again.run_requests == [] and not again.dynamic_partitions_requests
    assert gfci.partitions == ["GFCI 38"]


def test_one_new_edition_adds_its_partition_and_one_run(gfci):
    gfci.tick()
    result = gfci.register(GFCI38, "GFCI_38.pdf")
    data = gfci.tick()
    [request] = data.run_requests
    assert request.run_key == f"GFCI 38:{result.snapshot_id}" and request.partition_key == "GFCI 38"
    assert request.tags["cityrank/source_kind"] == "web"
    [add] = data.dynamic_partitions_requests
    assert add.partitions_def_name == "gfci_editions" and list(add.partition_keys) == ["GFCI 38"]


@pytest.mark.parametrize("ticker", ["gfci", "gfci_daemon"])
def test_several_new_editions_in_one_tick(ticker, request):
    gfci = request.getfixturevalue(ticker)
    gfci.tick()
    results = [gfci.register(GFCI35, "GFCI_35.pdf"), gfci.register(GFCI38, "GFCI_38.pdf")]
    data = gfci.tick()
    assert run_keys(data) == [r.run_key for r in results]
    [add] = data.dynamic_partitions_requests
    assert list(add.partition_keys) == ["GFCI 35", "GFCI 38"]
    assert gfci.tick().run_requests == []


def test_new_file_for_a_known_edition_is_a_new_run_not_a_new_partition(gfci):
    gfci.register(GFCI38, "GFCI_38.pdf")
    gfci.tick()
    corrected = gfci.register(GFCI38 + b"\n% corrected\n", "GFCI_38_v2.pdf")
    data = gfci.tick()
    assert run_keys(data) == [f"GFCI 38:{corrected.snapshot_id}"]
    assert not data.dynamic_partitions_requests


def test_landing_folder_drop_ins_are_ingested_and_bad_files_quarantined(gfci):
    landing = gfci.home / "landing" / "gfci"
    landing.mkdir(parents=True)
    (landing / "GFCI_35.pdf").write_bytes(GFCI35)
    (landing / "not_a_gfci_report.pdf").write_bytes(GDCI19)
    data = gfci.tick()
    assert [r.partition_key for r in data.run_requests] == ["GFCI 35"]
    assert len(gfci.quarantine.entries()) == 1
    assert gfci.tick().run_requests == []  # each dropped file is read once
