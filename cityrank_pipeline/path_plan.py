"""The path to a target rank, read from the warehouse and written for people.

The optimisation itself lives in SQL (`mart.path_to_target`, sql/views/090_path_to_top5.sql)
so that the CLI, the Dagster asset, the brief and a BI tool all read one answer. This module
asks for it — for any target rank, city and index — and lays it out by department, because
each department acts on its own lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import psycopg


@dataclass(frozen=True)
class PlanStep:
    step: int
    measure_code: str
    measure_name: str
    indicator_group: str
    sub_index: str
    department: str
    current_score: Decimal
    target_score: Decimal
    best_score: Decimal
    gain: Decimal
    effect_on_total: Decimal


@dataclass(frozen=True)
class Plan:
    index_code: str
    edition: str
    city: str
    current_rank: int
    current_total: Decimal
    target_rank: int
    target_city: str | None
    target_total: Decimal | None
    needed: Decimal | None  # None: already at or above the target rank
    feasible: bool
    steps: tuple[PlanStep, ...]

    @property
    def total_gain(self) -> Decimal:
        return sum((s.gain for s in self.steps), Decimal(0))

    @property
    def total_effect(self) -> Decimal:
        return sum((s.effect_on_total for s in self.steps), Decimal(0))

    def by_department(self) -> dict[str, list[PlanStep]]:
        grouped: dict[str, list[PlanStep]] = {}
        for s in sorted(self.steps, key=lambda s: (s.department, s.step)):
            grouped.setdefault(s.department, []).append(s)
        return dict(sorted(grouped.items(), key=lambda kv: -sum(s.effect_on_total for s in kv[1])))


def fetch_plans(conn: psycopg.Connection, *, target_rank: int = 5, city_key: str | None = None,
                index_code: str | None = None, department: str | None = None) -> list[Plan]:
    """One plan per additive index holding the city's indicator scores (focus city by default)."""
    standings = conn.execute(
        """SELECT s.index_code, s.edition, c.name, s.current_rank, s.current_total, s.target_rank, tc.name,
                  s.target_total, s.needed
           FROM mart.path_standing(%s, %s, %s) s
           JOIN warehouse.dim_city c ON c.city_key = s.city_key
           LEFT JOIN warehouse.dim_city tc ON tc.city_key = s.target_city_key
           ORDER BY s.index_code""",
        (target_rank, city_key, index_code),
    ).fetchall()
    steps = conn.execute(
        """SELECT index_code, step, measure_code, measure_name, indicator_group, sub_index, department,
                  current_score, target_score, best_score, gain, effect_on_total, feasible
           FROM mart.path_to_target(%s, %s, %s) ORDER BY index_code, step""",
        (target_rank, city_key, index_code),
    ).fetchall()
    plans = []
    for code, edition, city, rank, total, target, target_city, target_total, needed in standings:
        mine = [s for s in steps if s[0] == code]
        feasible = needed is None or (bool(mine) and all(s[12] for s in mine))
        chosen = tuple(PlanStep(*s[1:12]) for s in mine if department is None or s[6] == department)
        plans.append(Plan(code, edition, city, rank, total, target, target_city, target_total, needed, feasible, chosen))
    return plans


def _pts(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def format_plan(plan: Plan, *, department: str | None = None) -> str:
    head = (f"{plan.index_code} {plan.edition}: {plan.city} is {plan.current_rank}th with {_pts(plan.current_total)}; "
            f"rank {plan.target_rank} is {plan.target_city or '?'} with {_pts(plan.target_total)}.")
    if plan.needed is None:
        return head + f"\n  {plan.city} is already at or above rank {plan.target_rank}: no plan needed."
    lines = [head, f"  Needed: {_pts(plan.needed)} points on the total (others held fixed)."]
    if not plan.feasible:
        lines.append(f"  No plan within the limits: even every indicator {plan.city} can influence raised to the best "
                     f"score any city reaches adds only {_pts(plan.total_effect)} points.")
        return "\n".join(lines)
    scope = f" ({department} only)" if department else ""
    lines.append(f"  Cheapest plan{scope}: {_pts(plan.total_gain)} indicator points over {len(plan.steps)} indicator(s), "
                 f"adding {_pts(plan.total_effect)} to the total.")
    for dept, steps in plan.by_department().items():
        effect = sum((s.effect_on_total for s in steps), Decimal(0))
        lines.append(f"  {dept}: +{_pts(effect)} on the total")
        for s in steps:
            lines.append(f"    {s.step:>2}. {s.measure_name} ({s.sub_index} / {s.indicator_group}): "
                         f"{_pts(s.current_score)} → {_pts(s.target_score)} (+{_pts(s.gain)}; best {_pts(s.best_score)}; "
                         f"total +{_pts(s.effect_on_total)})")
    return "\n".join(lines)


def plans_markdown(plans: list[Plan]) -> str:
    """The plans as a Markdown table per index, for the Dagster UI."""
    out = []
    for plan in plans:
        out.append(f"**{plan.index_code} {plan.edition}** — {plan.city} {plan.current_rank}th "
                   f"({_pts(plan.current_total)}); rank {plan.target_rank}: {plan.target_city} ({_pts(plan.target_total)})")
        if plan.needed is None:
            out.append("\nAlready at or above the target rank.\n")
            continue
        if not plan.feasible:
            out.append(f"\nNo plan within the limits (at most +{_pts(plan.total_effect)} of {_pts(plan.needed)} needed).\n")
            continue
        out.append("\n| department | indicator | now | target | gain | total + |\n|---|---|---|---|---|---|")
        for s in sorted(plan.steps, key=lambda s: (s.department, s.step)):
            out.append(f"| {s.department} | {s.measure_name} | {_pts(s.current_score)} | {_pts(s.target_score)} | "
                       f"{_pts(s.gain)} | {_pts(s.effect_on_total)} |")
        out.append("")
    return "\n".join(out) or "No additive index holds indicator scores for the focus city yet."
