

def test_a_flow_pickles_inside_and_after_its_with_block() -> None:
    import cloudpickle

    from headrace import Flow, task

    @task
    def one() -> int:
        return 1

    with Flow("pickled") as flow:
        t = one()
        inside = cloudpickle.loads(cloudpickle.dumps(flow))
    after = cloudpickle.loads(cloudpickle.dumps(flow))
    for loaded in (inside, after):
        state = loaded.run()
        assert state.is_successful()
        assert [s.result for s in state.result.values()] == [1]
    assert t in flow.tasks
