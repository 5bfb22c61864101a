"""ILO generative-AI exposure by ISCO-08 (Gmyrek et al. 2025, WP 140; 2023 scores of WP 96).

The workbook has one sheet ('Sheet1'): one row per ISCO-08 task statement (3,266 tasks of 427
4-digit unit groups). Task columns: `score_2023` (WP 96, GPT-4; 3 missing), `score_2025` (final:
mean of the GPT-4o and Gemini predictions, or an expert-'reconciled' value for 46 tasks, see
`source`), the two model predictions. Occupation columns repeated on every task row: `mean_score_2025`
and `SD_2025` (the 2025 index; `mean_score_2025` is the headline score, the task mean rounded to 2
decimals), `potential25` (the 2025 exposure gradient), `mean_score_2023`, `SD_2023`, `potential23`.

- `native_scores`: `ilo2025_genai` = mean_score_2025, `ilo2023_genai` = mean_score_2023, on ISCO-08
  codes as 4-character strings (`1111`; the armed-forces codes would be `0110`, so codes are padded).
- `ilo_task_exposure`: the task-level scores (the LLM justification texts are not carried).
- `ilo_occupation_exposure`: one row per unit group with title, major group, task count, means,
  SDs and exposure classes.
"""
from __future__ import annotations

import pandas as pd

SOURCES = ("ilo_genai_isco08",)
MEASURES = {"ilo2025_genai": "mean_score_2025", "ilo2023_genai": "mean_score_2023"}
OCCUPATION_COLUMNS = ["Title", "label1d", "mean_score_2025", "SD_2025", "potential25",
                      "mean_score_2023", "SD_2023", "potential23"]


def isco_code(code: pd.Series) -> pd.Series:
    """ISCO-08 unit groups as 4-character strings: stripped; a leading zero lost to a number is restored."""
    code = code.astype(str).str.strip().str.replace(r"\.0$", "", regex=True).str.zfill(4)
    bad = ~code.str.fullmatch(r"\d{4}")
    if bad.any():
        raise ValueError(f"unexpected ISCO-08 codes: {code[bad].tolist()[:5]}")
    return code


def load(raw) -> dict[str, pd.DataFrame]:
    df = raw.read("ilo_genai_isco08")
    df["isco08_code"] = isco_code(df["ISCO_08"])

    per_occ = df.groupby("isco08_code")[OCCUPATION_COLUMNS].nunique(dropna=False)
    varying = per_occ.columns[(per_occ > 1).any()].tolist()
    if varying:
        raise ValueError(f"ILO occupation-level columns vary within an ISCO code: {varying}")
    occ = df.drop_duplicates("isco08_code").set_index("isco08_code")
    tasks_per_occ = df.groupby("isco08_code").size()

    native = pd.concat([
        pd.DataFrame({"measure_id": measure_id, "code_system": "isco08", "native_code": occ.index,
                      "score": occ[column].astype("float64").values, "coverage": None})
        for measure_id, column in MEASURES.items()
    ], ignore_index=True).sort_values(["measure_id", "native_code"], ignore_index=True)

    occupations = pd.DataFrame({
        "isco08_code": occ.index,
        "title": occ["Title"].str.strip().values,
        "major_group": occ["label1d"].str.strip().values,
        "task_count": tasks_per_occ.reindex(occ.index).astype("Int64").values,
        "mean_score_2025": occ["mean_score_2025"].values,
        "sd_2025": occ["SD_2025"].values,
        "gradient_2025": occ["potential25"].values,
        "mean_score_2023": occ["mean_score_2023"].values,
        "sd_2023": occ["SD_2023"].values,
        "potential_2023": occ["potential23"].values,
    }).sort_values("isco08_code", ignore_index=True)

    tasks = pd.DataFrame({
        "isco08_code": df["isco08_code"],
        "task_no": df["taskID"].astype("Int64"),
        "statement": df["Task_ISCO"].str.strip(),
        "score_2025": df["score_2025"],
        "score_2025_method": df["source"],
        "score_2025_gpt4o": df["predicted_score_2025_gpt4o"],
        "score_2025_gemini": df["predicted_score_2025_gemini"],
        "score_2023": df["score_2023"],
    }).sort_values(["isco08_code", "task_no"], ignore_index=True)

    return {"native_scores": native, "ilo_occupation_exposure": occupations, "ilo_task_exposure": tasks}
