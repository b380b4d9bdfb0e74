"""The words of the release brief in English and Korean: headings, column labels, sentences, dates.

The brief is read first by the city's own staff, in Korean, and by partners in English; both
come from the same figures, so everything that differs between them is here, as data, and
brief.py only asks for a word by its key. Names of indices, measures, departments and cities
come from the catalog (`name_ko`, assets/departments.yaml), not from this table.
"""

from __future__ import annotations

import datetime as dt
import re

from .notify import Headline, ordinal, release_label

LANGS = ("en", "ko")

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "{release} release brief — {city}",
        "h1": "{index} ({code}) {edition}: release brief for {city}",
        "sub": "{publisher} · published {published} · {count} cities ranked · {other_name}",
        "date_unknown": "date unknown",
        "gap": "Distance to the top 5",
        "gap_stale": "{city} is not in the {edition} figures; the gap is from {gap_edition}.",
        "no_overall": "{city} has no overall figure in {code}.",
        "released": "What was released: {release}",
        "released_note": "The top 5, {city} and its peers as loaded (▲ places gained since each city's previous edition).",
        "peers": "{city} against its peers",
        "weak_here": "Weak indicators in {code}",
        "weak_note": "Measures where {city} ranks below its overall rank, in the latest edition with measure ranks. "
                     "Figures two or more years old are marked with their age and count less in the priority.",
        "actions": "Action list across all indices",
        "departments": "Departments",
        "every_index": "{city} in every index",
        "sources": "Sources",
        "source": "{city}'s {release} figure: {link} (confidence: {confidence}){note}",
        "footer": "From the cityrank warehouse (mart views). n/d = not disclosed by the publisher.",
        "none": "None.",
        "yes": "yes", "no": "no",
        "years_old": "{years} years old",
        "history_alt": "{city} rank history in {code}",
        "overview_alt": "{city} latest rank per index",
        # columns
        "c_rank": "Rank", "c_city_count": "Cities ranked", "c_score": "Score", "c_previous_edition": "Previous edition",
        "c_previous_rank": "Previous rank", "c_rank_change": "Places gained", "c_edition": "Edition",
        "c_fifth_city": "5th place", "c_fifth_score": "5th-place score", "c_gap_basis": "Gap in",
        "c_gap_ranks": "Places to climb", "c_gap_points": "Points behind", "c_gap_percent": "% behind",
        "c_pace": "Pace per edition", "c_trend": "Trend", "c_city": "City", "c_change": "Change",
        "c_peer": "Peer", "c_peer_rank": "Peer rank", "c_lead_ranks": "{city} ahead by (places)",
        "c_peer_score": "Peer score", "c_lead_points": "{city} ahead by (points)", "c_priority": "Priority",
        "c_measure": "Measure", "c_overall_rank": "Overall rank", "c_rank_gap": "Places behind overall",
        "c_department": "Department", "c_influence": "City can influence", "c_index": "Index", "c_owns": "Owns",
        "c_weak_count": "Weak measures", "c_influenceable": "Influenceable", "c_which": "Which",
        "c_next_release": "Next release", "c_index_due": "Index due", "c_cities": "Cities",
        "c_to_top5": "Places to top 5", "c_behind_fifth": "Points behind 5th",
        # path to the top 5 and methodology
        "path_h": "Path to the top 5 ({code} {edition}, indicator scores)",
        "path_in_top": "{city} is already in the top {target}.",
        "path_intro": "{city} is {rank_ordinal} with {total}; {target_city} is {target_ordinal} with {target_total}: "
                      "{needed} points to gain, others held fixed.",
        "path_infeasible": "No plan within the limits: every indicator the city can influence at the best score any "
                           "city reaches adds {effect}.",
        "path_plan": "The cheapest plan raises {steps} indicator(s) by {gain} points in all (largest effect on the "
                     "total per point first; no indicator above the best score any city reaches).",
        "c_indicator": "Indicator", "c_function": "Function", "c_now": "Score now", "c_target": "Target score",
        "c_gain": "Gain", "c_effect": "Effect on total",
        "methodology_h": "Methodology changes",
        "methodology": "{code} {edition} measures differently from {previous}: {changes}. Ranks on these "
                       "indicators are not comparable across the two editions.",
        "reworded_was": " (was {previous})",
    },
    "ko": {
        "title": "{release} 발표 브리핑 — {city}",
        "h1": "{index} ({code}) {edition}: {city} 발표 브리핑",
        "sub": "{publisher} · 발표일 {published} · {count}개 도시 평가 · {other_name}",
        "date_unknown": "발표일 미상",
        "gap": "5위권까지의 거리",
        "gap_stale": "{city}은(는) {edition} 자료에 없어 {gap_edition} 기준의 격차입니다.",
        "no_overall": "{code}에는 {city}의 종합 순위가 없습니다.",
        "released": "발표 내용: {release}",
        "released_note": "상위 5개 도시, {city} 및 비교 도시의 결과입니다 (▲ 각 도시의 직전 회차 대비 상승 계단 수).",
        "peers": "비교 도시 대비 {city}",
        "weak_here": "{code} 취약 지표",
        "weak_note": "{city}의 종합 순위보다 낮은 순위를 받은 지표입니다 (지표 순위가 있는 가장 최근 회차 기준). "
                     "2년 이상 된 자료는 경과 연수를 표시하고 우선순위에서 가중치를 낮춥니다.",
        "actions": "전체 지수 조치 목록",
        "departments": "담당 부서",
        "every_index": "지수별 {city}의 순위",
        "sources": "출처",
        "source": "{city}의 {release} 수치: {link} (신뢰도: {confidence}){note}",
        "footer": "cityrank 데이터 웨어하우스(mart 뷰) 기준. n/d = 발표 기관이 공개하지 않음.",
        "none": "없음.",
        "yes": "예", "no": "아니요",
        "years_old": "{years}년 전 자료",
        "history_alt": "{code}에서 {city}의 순위 추이",
        "overview_alt": "지수별 {city}의 최근 순위",
        "c_rank": "순위", "c_city_count": "평가 도시 수", "c_score": "점수", "c_previous_edition": "직전 회차",
        "c_previous_rank": "직전 순위", "c_rank_change": "순위 변동", "c_edition": "회차",
        "c_fifth_city": "5위 도시", "c_fifth_score": "5위 점수", "c_gap_basis": "격차 기준",
        "c_gap_ranks": "올라야 할 계단", "c_gap_points": "점수 격차", "c_gap_percent": "격차(%)",
        "c_pace": "회차당 변화", "c_trend": "추세", "c_city": "도시", "c_change": "변동",
        "c_peer": "비교 도시", "c_peer_rank": "비교 도시 순위", "c_lead_ranks": "{city} 우위 (계단)",
        "c_peer_score": "비교 도시 점수", "c_lead_points": "{city} 우위 (점수)", "c_priority": "우선순위",
        "c_measure": "지표", "c_overall_rank": "종합 순위", "c_rank_gap": "종합 대비 격차",
        "c_department": "담당 부서", "c_influence": "시 정책 영향 가능", "c_index": "지수", "c_owns": "소관 지수",
        "c_weak_count": "취약 지표 수", "c_influenceable": "영향 가능", "c_which": "해당 지표",
        "c_next_release": "다음 발표", "c_index_due": "발표 예정 지수", "c_cities": "도시 수",
        "c_to_top5": "5위권까지", "c_behind_fifth": "5위와의 점수 차",
        "path_h": "5위권 진입 경로 ({code} {edition}, 지표 점수 기준)",
        "path_in_top": "{city}은(는) 이미 {target}위 안에 있습니다.",
        "path_intro": "{city}은(는) {total}점으로 {rank_ordinal}, {target_city}은(는) {target_total}점으로 "
                      "{target_ordinal}입니다. 다른 도시가 그대로일 때 {needed}점이 더 필요합니다.",
        "path_infeasible": "한도 안에서는 가능한 계획이 없습니다. 시가 영향을 줄 수 있는 모든 지표를 최고 수준까지 "
                           "올려도 {effect}점입니다.",
        "path_plan": "가장 적은 노력의 계획은 지표 {steps}개를 모두 {gain}점 올리는 것입니다 (점수당 종합 효과가 큰 "
                     "지표부터, 어느 도시의 최고 점수도 넘지 않게).",
        "c_indicator": "지표", "c_function": "분야", "c_now": "현재 점수", "c_target": "목표 점수",
        "c_gain": "상승분", "c_effect": "종합 점수 효과",
        "methodology_h": "평가 방법 변경",
        "methodology": "{code} {edition}은(는) {previous}와 평가 방법이 다릅니다: {changes}. 이 지표의 순위는 두 회차 "
                       "사이에 비교할 수 없습니다.",
        "reworded_was": " (이전: {previous})",
    },
}

TREND_KO = {"in top 5": "5위권 안", "stalled": "정체", "widening": "격차 확대", "no earlier edition": "이전 회차 없음",
            "rank not disclosed": "순위 비공개"}
BASIS_KO = {"points": "점수", "ranks": "순위"}
CHANGE_KO = {"added": "추가", "removed": "삭제", "reworded": "명칭 변경"}
CONFIDENCE_KO = {"reported": "발표치", "derived": "산출치", "disputed": "이견 있음", "low": "낮음"}


def word(lang: str, key: str, **values) -> str:
    return WORDS[lang][key].format(**values)


def date_text(day: dt.date | None, lang: str) -> str | None:
    """ISO in English (as before), the Korean style in Korean: 2025년 12월 17일."""
    if day is None:
        return None
    return f"{day.year}년 {day.month}월 {day.day}일" if lang == "ko" else day.isoformat()


def month_text(day: dt.date | None, lang: str) -> str | None:
    if day is None:
        return None
    return f"{day.year}년 {day.month}월" if lang == "ko" else day.strftime("%Y-%m")


def rank_ordinal(rank: int, lang: str) -> str:
    return f"{rank}위" if lang == "ko" else ordinal(rank)


def age_mark(age_years: int | None, lang: str) -> str:
    """' (6 years old)' for a figure two or more years old, else ''."""
    if age_years is None or age_years < 2:
        return ""
    return f" ({word(lang, 'years_old', years=age_years)})"


def trend_text(trend: str | None, lang: str) -> str | None:
    if lang != "ko" or trend is None:
        return trend
    match = re.fullmatch(r"(\d+) editions? to close", trend)
    return f"{match.group(1)}회차 후 도달" if match else TREND_KO.get(trend, trend)


def headline_text(h: Headline, lang: str, city: str) -> str:
    """The headline in `lang`; English is Headline.text itself (what notifications send)."""
    if lang != "ko":
        return h.text
    label = release_label(h.index_code, h.edition)
    if h.rank is None:
        return f"{label}: {city} " + ("순위 비공개" if h.listed else "발표 자료에 없음")
    of = f"{h.city_count}개 도시 중 " if h.city_count else ""
    tie = "공동 " if h.rank_tied else ""
    text = f"{label}: {city} {of}{tie}{h.rank}위"
    if h.previous_edition is None:
        change = "첫 기록"
    elif h.rank_change is None:
        change = f"직전 회차({h.previous_edition}) 순위 비공개"
    elif h.rank_change == 0:
        change = f"{h.previous_edition} 대비 변동 없음"
    else:
        direction = "상승" if h.rank_change > 0 else "하락"
        change = f"{h.previous_edition}({h.previous_rank}위) 대비 {abs(h.rank_change)}계단 {direction}"
    return f"{text} — {change}"
