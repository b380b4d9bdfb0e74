"""The validation gate: run an index's Great Expectations suite on one edition's rows.

Suites live in `expectations/<code>.json` (GX 1.x JSON). They are generic on purpose: what
varies by index — measure codes, each measure's scale, the edition's city count — comes from
the catalog, as GX `$PARAMETER`s and as derived columns computed here. So the catalog stays
the single place a scale is written down, and the suite stays the single place a rule is.
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .catalog import IndexEntry

MAX_EXAMPLES = 5


@dataclass
class ExpectationFailure:
    expectation: str
    why: str
    column: str | None
    unexpected_count: int
    examples: list[str]

    def describe(self) -> str:
        shown = "; ".join(self.examples)
        return f"{self.why} [{self.expectation}] failed for {self.unexpected_count} row(s): {shown}"


@dataclass
class ValidationReport:
    suite: str
    success: bool
    evaluated: int
    failures: list[ExpectationFailure] = field(default_factory=list)

    def summary(self) -> str:
        if self.success:
            return f"{self.suite}: all {self.evaluated} expectations met"
        return f"{self.suite}: {len(self.failures)} of {self.evaluated} expectations failed — " + " | ".join(
            f.describe() for f in self.failures
        )


def add_derived_columns(frame: pd.DataFrame, entry: IndexEntry, *, complete: bool, city_count: int | None) -> pd.DataFrame:
    """Columns the suites refer to: each row's scale, rank order checks, sums, counts."""
    df = frame.copy()
    known = {m.code for m in entry.measures}
    df["scale_min"] = [entry.measure_scale(m).min if m in known else None for m in df["measure"]]
    df["scale_max"] = [entry.measure_scale(m).max if m in known else None for m in df["measure"]]
    for col in ("scale_min", "scale_max", "score", "rank"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    df["has_untied_rank"] = df["rank"].notna() & ~df["rank_tied"].astype(bool)
    df["source_complete"] = bool(complete)
    # A complete source may still print some measures for part of the edition only (GFCI's
    # top 15 by area, its FinTech index): those are not held to the edition's city count.
    coverage = {m.code: m.coverage for m in entry.measures}
    df["covers_edition"] = bool(complete) & (df["measure"].map(coverage).fillna("all") == "all")
    # Competition ranking (1, 2, 2, 4): a gap-free table ranks to itself.
    df["expected_rank"] = df.groupby(["edition", "measure"])["rank"].rank(method="min")
    df["measure_city_count"] = df.groupby(["edition", "measure"])["city"].transform("count").astype("float64")
    df["edition_city_count"] = float(city_count) if city_count else float("nan")
    df["children_sum_diff"] = float("nan")
    if entry.sub_indices_sum_to_total:
        children = {m.code for m in entry.measures if m.parent == "total"}
        sums = df[df["measure"].isin(children)].groupby(["edition", "city"])["score"].agg(["sum", "count"])
        totals = df["measure"] == "total"
        for idx in df.index[totals]:
            key = (df.at[idx, "edition"], df.at[idx, "city"])
            if key in sums.index and sums.at[key, "count"] == len(children) and pd.notna(df.at[idx, "score"]):
                df.at[idx, "children_sum_diff"] = round(df.at[idx, "score"] - sums.at[key, "sum"], 6)
    df["model_diff"] = float("nan")
    df["indicators_missing"] = None
    if entry.additive_indicators:
        add_additive_model_columns(df, entry)
    return df


def add_additive_model_columns(df: pd.DataFrame, entry: IndexEntry) -> None:
    """For editions with indicator rows (GPCI's data file), in place:

    `model_diff` — on each printed function score, printed minus the sum over its groups of the
    mean of the group's indicators (only where the city has all of the function's indicators);
    on each total, printed minus the sum of the six functions. A computed score is not checked
    against the model it was computed from.
    `indicators_missing` — on one row per city, the catalog indicators of that edition the city
    lacks, so the failure names the city and the indicators.
    """
    indicator_codes = {m.code for m in entry.measures_at("indicator")}
    parent_of = {m.code: m.parent for m in entry.measures}
    functions = [m.code for m in entry.measures_at("sub_index")]
    computed = df["score_computed"].fillna(False).astype(bool) if "score_computed" in df else pd.Series(False, index=df.index)
    for edition, rows in df.groupby("edition"):
        if not rows["measure"].isin(indicator_codes).any():
            continue
        expected = [m.code for m in entry.indicators_in(str(edition))]
        for city, city_rows in rows.groupby("city"):
            score_of = dict(zip(city_rows["measure"], city_rows["score"]))
            missing = [code for code in expected if code not in score_of or pd.isna(score_of[code])]
            if missing:
                df.at[city_rows.index[0], "indicators_missing"] = ", ".join(missing)
            groups: dict[str, list[float]] = {}
            for code in expected:
                if code in score_of and pd.notna(score_of[code]):
                    groups.setdefault(parent_of[code], []).append(score_of[code])
            for idx, measure, score in zip(city_rows.index, city_rows["measure"], city_rows["score"]):
                if pd.isna(score) or computed[idx]:
                    continue
                if measure in functions:
                    own = [code for code in expected if parent_of[parent_of[code]] == measure]
                    if all(code not in missing for code in own):
                        model = sum(sum(v) / len(v) for g, v in groups.items() if parent_of[g] == measure)
                        df.at[idx, "model_diff"] = round(score - model, 6)
                elif measure == "total" and all(pd.notna(score_of.get(f)) for f in functions):
                    df.at[idx, "model_diff"] = round(score - sum(score_of[f] for f in functions), 6)


def _thread_lock_for_progress_bars() -> None:
    """Give tqdm a plain thread lock before Great Expectations makes its first (disabled) bar.

    Why: tqdm's default lock is a multiprocessing RLock, a named semaphore registered with
    multiprocessing's resource tracker. A worker process of `cityrank run` that is killed (by
    its parent on SIGTERM or Ctrl-C, or with it) never removes it, and the tracker, outliving
    the command, printed "There appear to be 1 leaked semaphore objects" on the operator's
    terminal. The bars are switched off, and no other process writes through this lock.
    """
    import threading

    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - Great Expectations requires tqdm
        return
    tqdm.set_lock(threading.RLock())


@lru_cache(maxsize=None)
def _context():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
    _thread_lock_for_progress_bars()
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (
        ctx.data_sources.add_pandas("cityrank")
        .add_dataframe_asset("edition_rows")
        .add_batch_definition_whole_dataframe("whole_edition")
    )
    return gx, batch_definition


def _suite_data(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def load_suite(path: Path):
    gx, _ = _context()
    return gx.ExpectationSuite(**_suite_data(path))


def _plain(value):
    """A cell as an analyst reads it: `rank=2`, `score=101.5`, not `rank=np.float64(2.0)`."""
    if hasattr(value, "item"):  # a numpy scalar
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _describe_row(row: pd.Series) -> str:
    parts = [f"{col}={_plain(row[col])!r}" for col in ("edition", "city", "measure", "rank", "score", "indicators_missing")
             if col in row and pd.notna(row[col])]
    if "page" in row and pd.notna(row["page"]):
        parts.append(f"page={int(row['page'])}")
    return ", ".join(parts)


# Expectations judged row by row: a row passes or fails whatever other rows are in the batch.
_ROW_LEVEL = ("expect_column_values_", "expect_column_pair_values_", "expect_multicolumn_sum_")
# ...except these, named like them but judging the column's dtype, which pandas settles over
# all the rows at once (an edition's all-integer ranks become floats beside another's gaps).
_COLUMN_TYPE = ("expect_column_values_to_be_of_type", "expect_column_values_to_be_in_type_list")
# Expectations over a set of rows that stay edition-local when the set is keyed on `edition`.
_KEYED = ("expect_compound_columns_to_be_unique", "expect_select_column_values_to_be_unique_within_record")


def edition_local(suite_data: dict) -> bool:
    """Whether every expectation of a suite judges each edition's rows independently of any other
    edition's: row-level expectations that allow no exceptions (`mostly` absent or 1; not the
    dtype ones), and uniqueness keyed on `edition`. For such a suite, rows of many editions pass
    together exactly when each edition passes alone, which is what lets `validate_editions` ask
    once."""
    for expectation in suite_data.get("expectations", []):
        kind, kwargs = expectation.get("type", ""), expectation.get("kwargs", {})
        if kwargs.get("mostly", 1) != 1:
            return False
        if kind.startswith(_ROW_LEVEL) and kind not in _COLUMN_TYPE:
            continue
        if kind in _KEYED and "edition" in (kwargs.get("column_list") or []):
            continue
        return False
    return True


@dataclass(frozen=True)
class EditionToValidate:
    """One edition's rows and what its derived columns need (see `validate_rows`)."""

    frame: pd.DataFrame
    complete: bool = False
    city_count: int | None = None


def validate_editions(editions: list[EditionToValidate], entry: IndexEntry, suite_path: Path) -> list[ValidationReport]:
    """Validate several editions of one index, a report each, as `validate_rows` would one by one.

    A Great Expectations validation costs about the same for ten rows as for ten thousand (its
    cost is per expectation), so the main job, which validates every edition of an index in one
    go on a first run, asks once whether all of them pass together. When they do and the suite is
    edition-local, each passes alone, and each gets that pass. Otherwise, or when any fails, each
    edition is validated on its own, so a failure names its own edition's rows, exactly as before.
    """
    def one_by_one() -> list[ValidationReport]:
        return [validate_rows(e.frame, entry, suite_path, complete=e.complete, city_count=e.city_count)
                for e in editions]

    data = _suite_data(suite_path) if len(editions) > 1 else {}
    if not data or not edition_local(data):
        return one_by_one()
    gx, batch_definition = _context()
    suite = gx.ExpectationSuite(**data)  # the file read once, for the check above and the run
    together = pd.concat([add_derived_columns(e.frame, entry, complete=e.complete, city_count=e.city_count)
                          for e in editions], ignore_index=True)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": together})
    result = batch.validate(suite, expectation_parameters=_parameters(entry), result_format="BOOLEAN_ONLY")
    if not result.success:
        return one_by_one()
    return [ValidationReport(suite=suite.name, success=True, evaluated=len(result.results)) for _ in editions]


def _parameters(entry: IndexEntry) -> dict:
    return {"measure_codes": [m.code for m in entry.measures]}


def validate_rows(frame: pd.DataFrame, entry: IndexEntry, suite_path: Path, *, complete: bool = False, city_count: int | None = None) -> ValidationReport:
    """Validate one edition's harmonised rows. Never raises for bad data: it reports."""
    _, batch_definition = _context()
    suite = load_suite(suite_path)
    df = add_derived_columns(frame, entry, complete=complete, city_count=city_count).reset_index(drop=True)
    params = _parameters(entry)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": df})
    # Most editions pass, and a pass needs no row lists: asking first only whether each
    # expectation holds (BOOLEAN_ONLY) takes half the time of the COMPLETE result format,
    # which is asked for only when something failed, to name the rows.
    result = batch.validate(suite, expectation_parameters=params, result_format="BOOLEAN_ONLY")
    if not result.success:
        result = batch.validate(suite, expectation_parameters=params, result_format="COMPLETE")
    failures = []
    for res in result.results:
        if res.success:
            continue
        config = res.expectation_config
        kwargs = config.kwargs
        info = res.result or {}
        indexes = info.get("unexpected_index_list") or []
        examples = [_describe_row(df.loc[i]) for i in indexes[:MAX_EXAMPLES] if isinstance(i, int) and i in df.index]
        if not examples:
            raw = info.get("partial_unexpected_list") or []
            examples = [repr(v) for v in raw[:MAX_EXAMPLES]]
        if res.exception_info and res.exception_info.get("raised_exception"):
            examples.append(f"error: {res.exception_info.get('exception_message')}")
        failures.append(
            ExpectationFailure(
                expectation=config.type,
                why=(config.meta or {}).get("why", config.type),
                column=kwargs.get("column") or ",".join(kwargs.get("column_list") or []) or None,
                unexpected_count=int(info.get("unexpected_count") or len(indexes) or 0),
                examples=examples,
            )
        )
    return ValidationReport(suite=suite.name, success=bool(result.success), evaluated=len(result.results), failures=failures)
