"""Plain-text rendering of `taskshift history CODE` (the numbers of `taskshift.service.history`)."""
from __future__ import annotations


def _pct(x) -> str:
    return "-" if x is None else f"{x:+.1f}%"


def _num(x) -> str:
    return "-" if x is None else f"{x:.1f}"


def _money(x) -> str:
    return "-" if x is None else f"${x:,}"


def render_oews(o) -> list[str]:
    out = ["employment and wages (BLS OEWS, May of each year; wages nominal, real in May 2025 dollars)"]
    if o.labor_code is None:
        return out + ["  OEWS publishes no figures for this role"]
    shared = f", shared by {o.roles_sharing} roles (the code's figures, not the role's)" if o.roles_sharing > 1 else ""
    out.append(f"  code {o.labor_code} {o.code_title} [{o.code_kind}]{shared}")
    for y in o.years:
        flag = f" ({y.wage_flag})" if y.wage_flag else ""
        emp = "-" if y.employment is None else f"{y.employment:,}"
        out.append(f"  {y.year}: employment {emp}, mean wage {_money(y.mean_wage)} (real {_money(y.mean_wage_real)}), "
                   f"median {_money(y.median_wage)}{flag}")
    c, a = o.change, o.all_occupations
    out += [f"  employment 2019-2022 (before ChatGPT) {_pct(c.employment_change_2019_2022_pct)} "
            f"(all occupations {_pct(a.employment_change_2019_2022_pct)}); 2022-2025 (since) "
            f"{_pct(c.employment_change_2022_2025_pct)} (all {_pct(a.employment_change_2022_2025_pct)})",
            f"  mean wage 2019-2022 {_pct(c.mean_wage_change_2019_2022_pct)} (all {_pct(a.mean_wage_change_2019_2022_pct)}); "
            f"2022-2025 {_pct(c.mean_wage_change_2022_2025_pct)} (all {_pct(a.mean_wage_change_2022_2025_pct)}) nominal",
            f"  real mean wage 2019-2022 {_pct(c.mean_wage_real_change_2019_2022_pct)} "
            f"(all {_pct(a.mean_wage_real_change_2019_2022_pct)}); 2022-2025 {_pct(c.mean_wage_real_change_2022_2025_pct)} "
            f"(all {_pct(a.mean_wage_real_change_2022_2025_pct)})",
            f"  projected 2024-34 (BLS EP): {_pct(o.projected_change_pct)}", f"  wages: {o.wages}"]
    b = o.bridge
    if b is not None:
        how = (f"employment 2019-2022 {_pct(c.bridge_employment_change_2019_2022_pct)}, mean wage "
               f"{_pct(c.bridge_mean_wage_change_2019_2022_pct)}" if b.bridged else
               f"not used: its May 2021 members hold {b.continuity_2020_2021:.2f}x its May 2020 employment")
        out.insert(-2, f"  before May 2021 OEWS published it inside {b.unit_code} {b.unit_title} (with "
                       f"{', '.join(x for x in b.members if x != o.labor_code)}): {how}")
    return out


def render_history(h) -> str:
    p = h.postings
    out = [f"{h.role.code}  {h.role.title}", ""] + render_oews(h.oews)
    out += ["", "job postings (Indeed Hiring Lab, CC BY 4.0; category postings, not the role's own)"]
    if not p.categories:
        out.append(f"  no postings: {p.status} ({p.note})")
        return "\n".join(out)
    for c in p.categories:
        share = "" if c.weight == 1 else f" (weight {c.weight:g})"
        out.append(f"  category {c.category}{share}: via {c.via_code} {c.via_title} [{c.via_level}], "
                   f"{c.method}, {c.confidence} confidence")
        if c.example_titles:
            out.append(f"    Indeed example titles: {', '.join(c.example_titles)}")
        out.append(f"    note: {c.note}")
        if not c.has_series:
            out.append("    no series for this category in this vintage")
    if p.end_month:
        out += ["", f"  index (1 Feb 2020 = 100): Nov 2022 {_num(p.index_nov2022)}, {p.end_month} {_num(p.index_end)} "
                    f"(last day {p.last_date}: {_num(p.index_last)})",
                f"  change since Feb 2020: {_pct(p.change_since_feb2020_pct)}; since ChatGPT (Nov 2022): "
                f"{_pct(p.change_since_nov2022_pct)}"]
        yearly = [s for s in p.series if s.month.endswith("-02") or s.month == p.end_month]
        out.append("  February of each year: " + ", ".join(f"{s.month} {_num(s.index)}" for s in yearly))
    out += ["", f"  vintage: {p.vintage}"] + [f"  caveat: {c}" for c in p.caveats]
    return "\n".join(out)
