"""A flow whose task makes one artifact of each kind, with hostile text in each."""

from headrace import Flow, task
from headrace.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)

EVIL = '<img src=x onerror="window.__pwned=1">'


@task
def report() -> None:
    create_markdown_artifact(
        f"# Nightly report\n\n- **rows** loaded: `1200`\n- see [the docs](https://example.com/docs)\n"
        f"- [bad](javascript:window.__pwned=2)\n\n{EVIL}"
    )
    create_link_artifact("https://example.com/report.html", text=f"full report {EVIL}")
    create_table_artifact(
        [{"region": "eu", "rows": 700}, {"region": f"<b>us</b>{EVIL}", "rows": 500}]
    )


with Flow("artifacts-demo") as flow:
    report()
