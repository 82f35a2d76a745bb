"""A temporary Dask cluster as a resource (Prefect 1's "Managing temporary resources"):
set up before the tasks that use it, cleaned up after them even when one fails."""

from dask.distributed import Client, LocalCluster

from headrace import Flow, Parameter, resource_manager, task


@resource_manager
class DaskCluster:
    """Create a temporary dask cluster."""

    def __init__(self, n_workers=1):
        self.n_workers = n_workers

    def setup(self):
        "Create a local dask cluster"
        cluster = LocalCluster(
            n_workers=self.n_workers,
            processes=False,  # in-process workers: no ports opened
            dashboard_address=None,
            scheduler_kwargs={"dashboard": False},
        )
        print(f"cluster up with {self.n_workers} worker(s)")
        return Client(cluster)

    def cleanup(self, client):
        "Cleanup the local dask cluster"
        cluster = client.cluster
        client.close()
        cluster.close()
        print("cluster closed")


@task
def load_data(n):
    return list(range(n))


@task
def summarize(data, client):
    squares = client.gather(client.map(lambda x: x * x, data))
    return sum(squares)


@task
def check(total):
    if total > 1000:
        raise ValueError(f"total {total} is too large")
    print(f"sum of squares: {total}")


with Flow("dask-resource") as flow:
    n = Parameter("n", default=5)
    data = load_data(n)
    with DaskCluster(n_workers=1) as client:
        total = summarize(data, client)
        check(total)


if __name__ == "__main__":
    state = flow.run()
    print(type(state).__name__)
    state = flow.run(n=20)  # the check fails: the cluster is still closed
    print(type(state).__name__)
