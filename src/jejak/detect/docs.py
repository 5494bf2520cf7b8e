"""``docs/rules.md``, generated from the rule pack so it cannot drift.

    python -m jejak.detect.docs > docs/rules.md

A test compares the file with :func:`render_rules_md`.
"""

from __future__ import annotations

from jejak.detect import anomaly
from jejak.detect.pack import RulePack, load_pack

INTRO = """# The rule pack

Generated from `src/jejak/rules/*.sql` by `python -m jejak.detect.docs > docs/rules.md`
(a test fails when this file and the pack disagree). How detection runs, the alert format,
suppressions and the engines are described in [detection.md](detection.md).

Every rule returns `at, agent_id, msisdn, outlet_id, record_ids, explanation` (and may
return `severity` to raise or lower its header's severity per finding). Its version is
locked by content hash in `src/jejak/rules/versions.json`; its positive and negative
fixtures are under `src/jejak/rules/fixtures/<id>/`. Its *slice* says through which key and
time window new records can change its findings, which is what incremental detection
re-evaluates after an ingest ([detection.md](detection.md#incremental-detection)).

| id | version | severity | title |
|---|---:|---|---|
"""


def render_rules_md(pack: RulePack | None = None) -> str:
    pack = pack or load_pack()
    out = [INTRO]
    for r in pack.rules:
        out.append(
            f"| [{r.id}](#{r.id.lower()}) | {pack.version(r.id)} | {r.severity} | {r.title} |\n"
        )
    out.append(
        f"| {anomaly.RULE_ID} | {anomaly.VERSION} | low | {anomaly.TITLE} (model, not SQL) |\n"
    )
    for r in pack.rules:
        out.append(
            f"\n## {r.id}\n\n**{r.title}** — severity `{r.severity}`, version {pack.version(r.id)}, "
            f"file `src/jejak/rules/{r.path.name}`\n\n"
        )
        for key, label in (
            ("meaning", "Meaning"),
            ("evidence", "Evidence"),
            ("false_positives", "Known false positives"),
            ("triage", "Triage"),
            ("references", "References"),
        ):
            out.append(f"- **{label}:** {getattr(r, key)}\n")
        keyed = [t for t in r.tables if r.scope.keyed(t)]
        whole = [t for t in r.tables if not r.scope.keyed(t)]
        reads = ", ".join([*(f"`{t}`" for t in keyed), *(f"`{t}` (whole)" for t in whole)])
        out.append(f"- **Slice:** {r.slice} — reads {reads}\n")
    out.append(
        f"\n## {anomaly.RULE_ID}\n\n**{anomaly.TITLE}** — severity `low`, version {anomaly.VERSION}, "
        "module `src/jejak/detect/anomaly.py`\n\n"
        "- **Meaning:** an IsolationForest scores every user ID's day over its behaviour "
        f"({', '.join(anomaly.FEATURES)}); a day scoring at least {anomaly.THRESHOLD} with at least one "
        "unconsented activation becomes an alert. Every other alert about that user ID and day "
        "carries the score and the top contributing features.\n"
        "- **Evidence:** the day's unconsented activations.\n"
        "- **Known false positives:** first days of new staff; outlet events with unusual volume.\n"
        "- **Triage:** read the top features; compare with the rule alerts of the same user ID.\n"
    )
    return "".join(out)


if __name__ == "__main__":  # pragma: no cover
    print(render_rules_md(), end="")
