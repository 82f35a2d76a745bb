"""Artifacts: what a task shows people on its run's page and its task run's page
(Prefect 1's ``prefect.backend.artifacts``).

``create_markdown_artifact(markdown)``, ``create_link_artifact(link, text=None)`` and
``create_table_artifact(rows, columns=None)`` attach one to the current task run and return
its id. Outside a run the server started they do nothing and return None (as in Prefect).
The UI renders them as text (markdown's few constructs become elements; nothing in an
artifact is ever read as HTML), and links only with an http(s) or relative address.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "create_link",
    "create_link_artifact",
    "create_markdown",
    "create_markdown_artifact",
    "create_table_artifact",
]


def _create(kind: str, data: dict[str, Any]) -> str | None:
    from headrace.client.client import Client
    from headrace.runcontext import context

    run_id = context.get("flow_run_id")
    if not run_id:
        context.logger.debug("no flow run id in the context: %s artifact not created", kind)
        return None
    index = context.get("map_index")
    with Client() as client:
        made = client.create_artifact(
            run_id,
            kind,
            data,
            task_slug=context.get("task_slug"),
            map_index=-1 if index is None else int(index),
        )
    return str(made["id"])


def create_markdown_artifact(markdown: str) -> str | None:
    """Attach ``markdown`` (headings, emphasis, code, lists, links) to this task run."""
    if not isinstance(markdown, str):
        raise TypeError(f"markdown must be a string, not {type(markdown).__name__}")
    return _create("markdown", {"markdown": markdown})


def create_link_artifact(link: str, text: str | None = None) -> str | None:
    """Attach a link (e.g. to a report this task wrote)."""
    if not isinstance(link, str) or not link:
        raise TypeError(f"link must be a non-empty string, not {link!r}")
    return _create("link", {"link": link, "text": text or link})


def create_table_artifact(
    rows: Sequence[Mapping[str, Any]] | Sequence[Sequence[Any]],
    columns: Sequence[str] | None = None,
) -> str | None:
    """Attach a table: a list of dicts (columns from their keys), or lists with
    ``columns``. Cell values are shown as text."""
    given: list[Any] = list(rows)
    if given and isinstance(given[0], Mapping):
        names = list(columns or dict.fromkeys(k for r in given for k in r))
        body = [[_cell(r.get(c)) for c in names] for r in given]
    else:
        if columns is None:
            raise ValueError("create_table_artifact needs columns= for rows that are lists")
        names = list(columns)
        body = [[_cell(v) for v in r] for r in given]
        bad = [i for i, r in enumerate(body) if len(r) != len(names)]
        if bad:
            raise ValueError(f"table row {bad[0]} has a different length from columns")
    return _create("table", {"columns": [str(c) for c in names], "rows": body})


def create_link(link: str) -> str | None:
    """Prefect 0.15's older name of :func:`create_link_artifact`."""
    return create_link_artifact(link)


def create_markdown(markdown: str) -> str | None:
    """Prefect 0.15's older name of :func:`create_markdown_artifact`."""
    return create_markdown_artifact(markdown)


def _cell(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)
