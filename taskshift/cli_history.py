"""Plain-text rendering of `taskshift history CODE` (the numbers of `taskshift.service.history`)."""
from __future__ import annotations


def _pct(x) -> str:
    return "-" if x is None else f"{x:+.1f}%"


def _num(x) -> str:
    return "-" if x is None else f"{x:.1f}"


def render_history(h) -> str:
    p = h.postings
    out = [f"{h.role.code}  {h.role.title}", "", "job postings (Indeed Hiring Lab, CC BY 4.0; category postings, not the role's own)"]
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
