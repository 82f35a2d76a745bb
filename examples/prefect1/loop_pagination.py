"""Reading every page of a paginated source with LOOP (Prefect 1's task looping idiom):
each page is one iteration, the items read so far travel in the loop's result."""

from headrace import Flow, Parameter, context, task
from headrace.engine.signals import LOOP

PAGES = {
    None: {"items": ["a", "b"], "next": "p2"},
    "p2": {"items": ["c", "d"], "next": "p3"},
    "p3": {"items": ["e"], "next": None},
}


def fetch_page(cursor):
    """Stands in for an HTTP API returning one page and the cursor of the next."""
    return PAGES[cursor]


@task
def read_all(limit):
    payload = context.get("task_loop_result", {"cursor": None, "items": []})
    page = fetch_page(payload["cursor"])
    items = payload["items"] + page["items"]
    print(f"iteration {context.task_loop_count}: read {len(page['items'])} item(s)")
    if page["next"] is None or len(items) >= limit:
        return items
    raise LOOP(
        message=f"page {context.task_loop_count} read",
        result={"cursor": page["next"], "items": items},
    )


@task
def report(items):
    print(f"{len(items)} items: {', '.join(items)}")


with Flow("paginate") as flow:
    limit = Parameter("limit", default=100)
    report(read_all(limit))


if __name__ == "__main__":
    state = flow.run()
    print(type(state).__name__)
    state = flow.run(limit=3)
    print(type(state).__name__)
