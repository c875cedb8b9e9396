"""Model URIs parse to references and back, and say which forms they accept."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sluice.errors import InvalidAlias, InvalidModelName, InvalidModelURI
from sluice.registry import ModelRef, parse_ref, parse_uri
from sluice.registry.uri import check_alias, check_model_name

FORMS = (
    "models:/NAME/VERSION (e.g. models:/bike-demand/3), models:/NAME@ALIAS "
    "(e.g. models:/bike-demand@champion) or models:/NAME (the latest version)"
)


def test_the_three_forms() -> None:
    assert parse_uri("models:/bike-demand/3") == ModelRef("bike-demand", version=3)
    assert parse_uri("models:/bike-demand@champion") == ModelRef("bike-demand", alias="champion")
    assert parse_uri("models:/bike.demand_v2") == ModelRef("bike.demand_v2")
    assert parse_ref("bike-demand@prod-eu") == ModelRef("bike-demand", alias="prod-eu")


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("bike-demand/3", "got 'bike-demand/3'"),
        (
            "models:/",
            "Expected a model name of letters, digits, '.', '_' or '-' in 'models:/'; got ''.",
        ),
        (
            "models:/bike/0",
            "Expected a version number (1, 2, ...) after '/' in 'models:/bike/0'; got '0'.",
        ),
        ("models:/bike/latest", "after '/' in 'models:/bike/latest'; got 'latest'."),
        ("models:/bike/3/4", "got '3/4'"),
        ("models:/bike@Champion", "after '@' in 'models:/bike@Champion'; got 'Champion'."),
        ("models:/bi ke", "got 'bi ke'"),
    ],
)
def test_malformed_uris_list_the_accepted_forms(uri: str, problem: str) -> None:
    with pytest.raises(InvalidModelURI) as info:
        parse_uri(uri)
    assert problem in str(info.value)
    assert str(info.value).endswith(f"{FORMS}.")


def test_names_and_aliases_are_checked() -> None:
    with pytest.raises(InvalidModelName, match=r"got 'a/b'\. Choose a name like 'bike-demand'\."):
        check_model_name("a/b")
    with pytest.raises(InvalidAlias, match=r"got 'Prod'\. Use for instance 'champion'"):
        check_alias("Prod")
    assert check_alias("eu_prod-2") == "eu_prod-2"


names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,30}", fullmatch=True)
aliases = st.from_regex(r"[a-z][a-z0-9_-]{0,20}", fullmatch=True)
refs = st.one_of(
    st.builds(ModelRef, names),
    st.builds(lambda n, v: ModelRef(n, version=v), names, st.integers(1, 10**6)),
    st.builds(lambda n, a: ModelRef(n, alias=a), names, aliases),
)


@settings(deadline=None)
@given(refs)
def test_every_reference_round_trips_through_its_uri(ref: ModelRef) -> None:
    assert parse_uri(ref.uri) == ref
    assert str(ref) == ref.uri


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("models:/bike\n", "got 'bike\\n'"),
        ("models:/bike@champion\n", "got 'champion\\n'"),
        ("models:/bike/3\n", "got '3\\n'"),
        ("models:/bike/²", "got '²'"),
        ("models:/bike/١", "got '١'"),
    ],
)
def test_trailing_newlines_and_non_ascii_digits_are_refused(uri: str, problem: str) -> None:
    with pytest.raises(InvalidModelURI) as info:
        parse_uri(uri)
    assert problem in str(info.value)


def test_names_and_aliases_with_a_trailing_newline_are_refused() -> None:
    with pytest.raises(InvalidModelName, match=r"got 'bike\\n'"):
        check_model_name("bike\n")
    with pytest.raises(InvalidAlias, match=r"got 'champion\\n'"):
        check_alias("champion\n")
