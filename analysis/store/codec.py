"""Analysis results as JSON text, and back, without pickle.

Stored view results (:mod:`analysis.views.stored`) live inside the study database,
a file people copy and send to one another. Unpickling such a file would run whatever
code it names, so results are written as JSON: plain values as themselves, tables as
Parquet (base64), and the result objects as their class name and fields. Decoding
only ever rebuilds frozen dataclasses and enums defined inside this package.

Examples
--------
>>> import pandas as pd
>>> value = {"table": pd.DataFrame({"n": [1, 2]}), "when": (1, None, "x")}
>>> back = decode(encode(value))
>>> back["when"], back["table"]["n"].tolist()
((1, None, 'x'), [1, 2])
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
import importlib
import io
import json
import math

import numpy as np
import pandas as pd

#: Only classes from these packages are rebuilt when decoding.
_TRUSTED_PACKAGE = "analysis"


def encode(value) -> str:
    """``value`` as JSON text (see the module notes for what it may contain).

    Raises
    ------
    TypeError
        For a value of a kind the codec does not know (nothing is silently lost).
    """
    return json.dumps(_to_json(value), allow_nan=True, separators=(",", ":"))


def decode(text: str):
    """The value :func:`encode` wrote.

    Raises
    ------
    ValueError
        When the text names a class outside this package, or is not such JSON.
    """
    return _from_json(json.loads(text))


# ------------------------------------------------------------------------- encoding


def _to_json(value):
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, np.generic):
        return _to_json(value.item())
    if isinstance(value, enum.Enum):
        return {"$enum": _class_name(type(value)), "value": _to_json(value.value)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _to_json(getattr(value, f.name))
                  for f in dataclasses.fields(value) if f.init}
        return {"$dataclass": _class_name(type(value)), "fields": fields}
    if isinstance(value, pd.DataFrame):
        return {"$frame": _frame_bytes(value)}
    if isinstance(value, pd.Series):
        return {"$series": _frame_bytes(value.to_frame(name="values")),
                "name": _to_json(value.name)}
    if isinstance(value, tuple):
        return {"$tuple": [_to_json(v) for v in value]}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        return {"$dict": [[_to_json(k), _to_json(v)] for k, v in value.items()]}
    if isinstance(value, dt.datetime):  # before date: a datetime is a date
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    raise TypeError(f"cannot store a value of type {type(value).__qualname__}")


def _class_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _frame_bytes(frame: pd.DataFrame) -> dict:
    # Parquet keeps the dtypes (categories, nullable integers, dates, text) and the
    # index; it needs text column labels, which every view table has. Columns of Python
    # objects go beside it value by value: Parquet would read them back as text, with
    # NaN where there was None.
    objects = [name for name, dtype in frame.dtypes.items() if pd.api.types.is_object_dtype(dtype)]
    buffer = io.BytesIO()
    frame.drop(columns=objects).to_parquet(buffer, engine="pyarrow", index=True)
    return {
        "parquet": base64.b64encode(buffer.getvalue()).decode("ascii"),
        "objects": [[name, [_to_json(v) for v in frame[name]]] for name in objects],
        "columns": [str(name) for name in frame.columns],
    }


# ------------------------------------------------------------------------- decoding


def _from_json(value):
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$float" in value:
        return float(value["$float"])
    if "$tuple" in value:
        return tuple(_from_json(v) for v in value["$tuple"])
    if "$dict" in value:
        return {_from_json(k): _from_json(v) for k, v in value["$dict"]}
    if "$frame" in value:
        return _frame(value["$frame"])
    if "$series" in value:
        return _frame(value["$series"])["values"].rename(_from_json(value["name"]))
    if "$date" in value:
        return dt.date.fromisoformat(value["$date"])
    if "$datetime" in value:
        return dt.datetime.fromisoformat(value["$datetime"])
    if "$enum" in value:
        return _trusted_class(value["$enum"], enum.Enum)(_from_json(value["value"]))
    if "$dataclass" in value:
        cls = _trusted_class(value["$dataclass"], None)
        if not dataclasses.is_dataclass(cls):
            raise ValueError(f"{value['$dataclass']} is not a result class")
        return cls(**{name: _from_json(v) for name, v in value["fields"].items()})
    raise ValueError(f"not a stored result: an object with keys {sorted(value)}")


def _frame(stored: dict) -> pd.DataFrame:
    frame = pd.read_parquet(io.BytesIO(base64.b64decode(stored["parquet"])), engine="pyarrow")
    for name, values in stored["objects"]:
        frame[name] = pd.Series([_from_json(v) for v in values], index=frame.index,
                                dtype=object)
    return frame[stored["columns"]]


def _trusted_class(name: str, base: type | None) -> type:
    module_name, _, qualname = name.partition(":")
    if module_name.split(".")[0] != _TRUSTED_PACKAGE or not qualname:
        raise ValueError(f"a stored result may only hold Desistance's own classes, not {name}")
    target = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    if not isinstance(target, type) or (base is not None and not issubclass(target, base)):
        raise ValueError(f"{name} is not a result class")
    return target
