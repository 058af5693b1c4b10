"""The column rules: each rule decides the columns it is for, the decision is printed with its
reason, overrides win, and bad tables or overrides are one short error."""

import doctest

import numpy as np
import pandas as pd
import pytest

from kerasact import tabular
from kerasact.tabular import RULES, Schema, infer_schema, schema, tables

N = 40
RNG = np.random.default_rng(0)

# rule name -> a column it must decide (and the kind it gives)
COLUMNS = {
    "two values": (pd.Series(RNG.choice(["male", "female"], N)), "categorical"),
    "id-like": (pd.Series([f"P{i:03d}" for i in range(N)]), "dropped"),
    "text": (pd.Series(RNG.choice(["Biscoe", "Dream", "Torgersen"], N)), "categorical"),
    "few integers": (pd.Series(RNG.choice([2007, 2008, 2009], N)), "categorical"),
    "numbers": (pd.Series(RNG.normal(40, 5, N)), "numeric"),
}


def test_every_rule_has_a_case_here():
    assert [rule.name for rule in RULES] == list(COLUMNS)


@pytest.mark.parametrize("rule", list(COLUMNS))
def test_each_rule_decides_its_column(rule):
    column, kind = COLUMNS[rule]
    with pytest.warns(UserWarning, match="is dropped") if kind == "dropped" else _nothing():
        found = infer_schema(pd.DataFrame({"c": column, "other": RNG.normal(size=N)})).columns[0]
    assert (found.rule, found.kind) == (rule, kind)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize(("column", "kind"), [
    (pd.Series([True, False] * (N // 2)), "categorical"),
    (pd.Series(pd.array([1, 2, pd.NA] * 13 + [3], dtype="Int64")), "categorical"),  # nullable ints, few values
    (pd.Series(RNG.integers(0, 1000, N).astype(float)), "numeric"),  # many whole numbers: a count, not classes
    (pd.Series(pd.Categorical(RNG.choice(["a", "b", "c"], N))), "categorical"),
    (pd.Series(np.r_[RNG.normal(size=N - 3), [np.nan] * 3]), "numeric"),
], ids=["bool", "Int64 with NA", "whole floats", "category dtype", "floats with NaN"])
def test_dtypes_and_missing_values(column, kind):
    found = infer_schema(pd.DataFrame({"c": column})).columns[0]
    assert found.kind == kind and found.missing == int(column.isna().sum())


def test_the_table_prints_every_column_with_its_reason():
    frame = pd.DataFrame({name: column for name, (column, _) in COLUMNS.items() if name != "id-like"})
    text = infer_schema(frame).table()
    for rule in RULES:
        if rule.name != "id-like":
            assert rule.reason in text
    assert text.splitlines()[0].split() == ["column", "kind", "missing", "distinct", "rule"]


def test_overrides_win_and_round_trip():
    frame = pd.DataFrame({"year": [2007, 2008, 2009] * 5, "size": np.arange(15.0), "note": list("abcdeabcdeabcde")})
    found = infer_schema(frame, numeric=["year"], drop=["note"], categorical=["size"])
    assert [(c.kind, c.rule) for c in found.columns] == [("numeric", "override"), ("categorical", "override"),
                                                         ("dropped", "override")]
    assert Schema.from_dict(found.to_dict()) == found and "you said so" in found.table()


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    (dict(categorical="year"), TypeError, r"categorical='year' \(str\).*Pass categorical=\['year'\]"),
    (dict(numeric=["yaer"]), ValueError, r"numeric='yaer' is not valid.*Did you mean 'year'\?"),
    (dict(numeric=["note"]), ValueError, r"numeric='note'.*holds text"),
    (dict(numeric=["year"], drop=["year"]), ValueError, r"column 'year' is also given as numeric"),
    (dict(drop=["year", "note"]), ValueError, r"no feature columns left"),
], ids=["str not list", "typo", "text as numeric", "twice", "all dropped"])
def test_bad_overrides_are_one_short_error(kwargs, error, match):
    frame = pd.DataFrame({"year": [2007, 2008] * 5, "note": list("abababab") + ["c", "d"]})
    with pytest.raises(error, match=match) as info:
        infer_schema(frame, **kwargs)
    assert len(str(info.value)) <= 300


def test_an_all_missing_column_is_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"column 'empty' has no values \(all 3 rows read are missing\); drop it"):
        infer_schema(pd.DataFrame({"a": [1.0, 2.0, 3.0], "empty": [np.nan] * 3}))


def test_doctests():
    assert doctest.testmod(schema).failed == 0
    assert doctest.testmod(tables, extraglobs={"Column": tabular.Column}).failed == 0


@pytest.mark.parametrize(("y", "problem", "rule"), [
    (pd.Series(np.arange(500) % 300), "regression", "more than 20 distinct values: a quantity"),
    (pd.Series([1, 2, 3, 1, 2, 3]), "multiclass", "at most 20 distinct values: classes"),
    (pd.Series(["Adelie", "Gentoo", "Chinstrap"]), "multiclass", "text, bool or category"),
    (pd.Series([True, False, True]), "binary", "text, bool or category"),
    (pd.Series([0.5, 1.25, 3.0]), "regression", "numbers"),
], ids=["prices", "few integers", "text", "bool", "floats"])
def test_the_target_rule_reads_many_whole_numbers_as_a_quantity(y, problem, rule):
    found, reason = tabular.target_problem(y)
    assert found.problem == problem and rule in reason
