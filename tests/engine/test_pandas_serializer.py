"""``PandasSerializer`` (Prefect's ``prefect.engine.serializers.PandasSerializer``): a task's
DataFrame checkpointed as a CSV or JSON file pandas reads back, with the kwargs given."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd  # the `pandas` extra; CI installs it through `all`
import pytest

from headrace import Flow, task
from headrace.engine.errors import ResultError
from headrace.engine.results import LocalResult
from headrace.engine.serializers import PandasSerializer


def _frame() -> object:
    return pd.DataFrame({"city": ["Oslo", "Lima", "Pune"], "rain_mm": [763.0, 6.4, 722.5]})


@pytest.mark.parametrize(
    ("file_type", "serialize_kwargs", "deserialize_kwargs"),
    [
        ("csv", {"index": False}, {}),
        ("json", {"orient": "records"}, {"orient": "records"}),
    ],
)
def test_a_checkpointed_frame_is_a_file_pandas_reads_back(
    tmp_path: Path, file_type: str, serialize_kwargs: dict, deserialize_kwargs: dict
) -> None:
    serializer = PandasSerializer(
        file_type, serialize_kwargs=serialize_kwargs, deserialize_kwargs=deserialize_kwargs
    )
    result = LocalResult(dir=str(tmp_path), location="rain.{task_name}", serializer=serializer)

    @task(result=result, checkpoint=True)
    def rain() -> object:
        return _frame()

    with Flow("pandas") as flow:
        rain()
    state = flow.run()
    assert state.is_successful()
    stored = tmp_path / "rain.rain"
    assert stored.exists()
    if file_type == "csv":
        assert stored.read_text().splitlines()[0] == "city,rain_mm"  # index=False was used
    back = result.read(str(stored)).value
    pd.testing.assert_frame_equal(back, _frame())


def test_an_unknown_file_type_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="read_nosuch"):
        PandasSerializer("nosuch")


def test_a_value_that_is_not_a_frame_is_a_result_error() -> None:
    with pytest.raises(ResultError, match="takes a DataFrame, not a value of type list"):
        PandasSerializer("csv").serialize([1, 2])


def test_parquet_round_trips_or_says_what_to_install() -> None:
    serializer = PandasSerializer("parquet")
    if importlib.util.find_spec("pyarrow") is None:
        with pytest.raises(ResultError, match="pyarrow"):
            serializer.serialize(_frame())
    else:
        pd.testing.assert_frame_equal(
            serializer.deserialize(serializer.serialize(_frame())), _frame()
        )


def test_equal_settings_are_equal_serializers() -> None:
    assert PandasSerializer("csv", serialize_kwargs={"index": False}) == PandasSerializer(
        "csv", serialize_kwargs={"index": False}
    )
    assert PandasSerializer("csv") != PandasSerializer("json")
