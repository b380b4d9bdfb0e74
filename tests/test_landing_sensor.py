"""The landing folder: a dropped file becomes an edition partition and a run, exactly once."""

import hashlib

import dagster as dg
import psycopg
import pytest

from cityrank_pipeline.definitions import build_definitions
from cityrank_pipeline.orchestration.resources import CityrankResource
from cityrank_pipeline.snapshots import Quarantine

from conftest import SHARED

PDF = SHARED / "publications/gpci/GPCI2015_en.pdf"


def _tick(defs, instance, cursor=None):
    sensor = defs.resolve_sensor_def("gpci_new_editions")
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"cityrank": CityrankResource()},
                                      repository_def=defs.get_repository_def())
    return sensor(context)


@pytest.mark.skipif(not PDF.exists(), reason="shared GPCI PDFs absent")
def test_dropped_pdf_becomes_one_run_then_nothing(cityrank_env):
    landing = cityrank_env.landing_dir / "gpci"
    landing.mkdir(parents=True)
    (landing / "GPCI2015_en.pdf").write_bytes(PDF.read_bytes())
    (landing / "scan.pdf").write_bytes(b"%PDF-1.4 broken")
    defs = build_definitions()
    with dg.instance_for_test() as instance:
        first = _tick(defs, instance)
        sha = hashlib.sha256(PDF.read_bytes()).hexdigest()
        assert [(r.partition_key, r.run_key) for r in first.run_requests] == [("2015", f"2015:{sha}")]
        assert first.dynamic_partitions_requests[0].partition_keys == ["2015"]
        [note] = Quarantine(cityrank_env.quarantine_dir).entries()
        assert note["original_name"] == "scan.pdf" and note["reason"].startswith("scan.pdf")

        assert _tick(defs, instance, cursor=first.cursor).run_requests == []

        instance.add_dynamic_partitions("gpci_editions", ["2015"])
        result = defs.resolve_job_def("gpci_edition_job").execute_in_process(
            partition_key="2015", instance=instance, raise_on_error=False)
        assert result.success
        # A fresh cursor (say, the sensor was reset) still does not re-request a loaded edition.
        assert _tick(defs, instance).run_requests == []
    with psycopg.connect(cityrank_env.database_url) as conn:
        assert conn.execute("SELECT count(*) FROM warehouse.fact_city_score WHERE edition = '2015'").fetchone() == (280,)
