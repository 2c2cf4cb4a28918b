"""Located YAML reading, ``extends:``, overrides and validation (:mod:`simulator.scenario`:
reading, compose, translate)."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, model_validator

from simulator.errors import FieldProblems, Problem, ScenarioError
from simulator.scenario.compose import apply_overrides, load_located, parse_set_option
from simulator.scenario.dump import to_yaml
from simulator.scenario.located import Located
from simulator.scenario.reading import load_yaml
from simulator.scenario.translate import validate

# ------------------------------------------------------------------ a small scenario model


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Lognormal(_Strict):
    kind: Literal["lognormal"]
    mu: float
    sigma: float = Field(gt=0)


class Fixed(_Strict):
    kind: Literal["fixed"]
    days: int = Field(ge=0)


Delay = Annotated[Lognormal | Fixed, Field(discriminator="kind")]


class Replenishment(_Strict):
    review_days: int = Field(ge=1)
    share: float = Field(ge=0, le=1)


class Manufacturer(_Strict):
    id: str
    initial_cover_days: int = Field(ge=0)
    replenishment: Replenishment | None = None


class Authority(_Strict):
    reviewers: int = Field(ge=0)
    delay: Delay
    max_queue: int | None = Field(default=None, alias="max-queue")


class Market(_Strict):
    price: float = Field(ge=0)
    mode: Literal["spot", "contract"] = "spot"

    @model_validator(mode="after")
    def _contract_price(self) -> Market:
        if self.mode == "contract" and self.price == 0:
            raise FieldProblems([(("price",), "a contract needs a price above 0", self.price)])
        return self


class Scenario(_Strict):
    name: str
    start: date
    authority: Authority
    manufacturers: list[Manufacturer] = Field(default_factory=list)
    markets: dict[str, Market] = Field(default_factory=dict)
    flags: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_ids(self) -> Scenario:
        seen: dict[str, int] = {}
        problems: list[tuple[tuple[Any, ...], str, Any]] = []
        for i, m in enumerate(self.manufacturers):
            if m.id in seen:
                problems.append(
                    (("manufacturers", i, "id"), f"duplicate id '{m.id}'", m.id),
                )
            seen.setdefault(m.id, i)
        if problems:
            raise FieldProblems(problems)
        return self


GOOD = """\
name: demo
start: 2025-01-01
authority:
  reviewers: 3
  delay:
    kind: lognormal
    mu: 1.0
    sigma: 0.5
manufacturers:
  - id: us_automaker
    initial_cover_days: 30
  - id: eu_motors
    initial_cover_days: 20
    replenishment:
      review_days: 7
      share: 0.5
markets:
  eu:
    price: 10
"""


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def variant(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


def problems(fn: Callable[[], Any]) -> list[Problem]:
    with pytest.raises(ScenarioError) as info:
        fn()
    return info.value.problems


def check(tmp_path: Path, text: str, **kwargs: Any) -> list[Problem]:
    path = write(tmp_path, text)
    return problems(lambda: validate(load_located(path), Scenario, **kwargs))


def only(found: list[Problem]) -> Problem:
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


# ------------------------------------------------------------------ happy path


def test_valid_file_gives_model_instance(tmp_path: Path) -> None:
    scenario = validate(load_located(write(tmp_path, GOOD)), Scenario)
    assert isinstance(scenario, Scenario)
    assert scenario.start == date(2025, 1, 1)
    assert scenario.manufacturers[1].replenishment == Replenishment(review_days=7, share=0.5)
    assert isinstance(scenario.authority.delay, Lognormal)


def test_positions_recorded_for_values_and_keys(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    loc = load_yaml(path)
    assert loc.files == [str(path)]
    assert loc.pos[("authority", "reviewers")] == (str(path), 4, 14)
    assert loc.keypos[("authority", "reviewers")] == (str(path), 4, 3)
    assert loc.pos[("manufacturers", 1, "replenishment", "share")] == (str(path), 16, 14)
    assert loc.pos[()] == (str(path), 1, 1)


def test_scalars_are_plain_and_free_of_yaml11_surprises(tmp_path: Path) -> None:
    text = """\
    country: NO
    switch: on
    yes_word: yes
    real_bool: true
    upper_bool: FALSE
    time: 1:30
    code: 0755
    hex: 0x1F
    big: 1_000
    sci: 1e3
    small: 2.5e-3
    quoted_sci: "1e3"
    day: 2025-03-01
    nothing: ~
    eq: =
    2024: a year key
    """
    data = load_yaml(write(tmp_path, text)).data
    assert data["country"] == "NO"
    assert data["switch"] == "on"
    assert data["yes_word"] == "yes"
    assert data["real_bool"] is True
    assert data["upper_bool"] is False
    assert data["time"] == "1:30"
    assert data["code"] == "0755"
    assert data["hex"] == 31
    assert data["big"] == 1000
    assert data["sci"] == 1000.0
    assert data["small"] == 0.0025
    assert data["quoted_sci"] == "1e3"
    assert data["day"] == date(2025, 3, 1)
    assert data["nothing"] is None
    assert data["eq"] == "="
    assert data["2024"] == "a year key"


def test_merge_keys_follow_yaml_semantics(tmp_path: Path) -> None:
    text = """\
    defaults: &d
      review_days: 7
      share: 0.5
    x:
      <<: *d
      share: 0.9
    """
    loc = load_yaml(write(tmp_path, text))
    assert loc.data["x"] == {"review_days": 7, "share": 0.9}
    assert loc.pos[("x", "review_days")][1] == 2  # inherited value: located at the anchor
    assert loc.pos[("x", "share")][1] == 6


# ------------------------------------------------------------------ validation messages


def test_wrong_type_located_exactly(tmp_path: Path) -> None:
    p = only(check(tmp_path, variant("reviewers: 3", "reviewers: many")))
    assert (p.line, p.col) == (4, 14)
    assert p.path == "authority.reviewers"
    assert "valid integer" in p.message
    assert p.value == "many"
    assert str(p).startswith(f"{tmp_path / 'scenario.yaml'}:4:14: authority.reviewers: ")


def test_misspelt_key_suggests_the_right_one(tmp_path: Path) -> None:
    found = check(
        tmp_path, variant("    kind: lognormal\n    mu:", "    kind: lognormal\n    muu:")
    )
    extra = [p for p in found if "unknown key" in p.message]
    missing = [p for p in found if "missing" in p.message]
    # one problem, not two: the suggestion already names the missing field
    assert len(extra) == 1 and not missing
    p = extra[0]
    assert (p.line, p.col) == (7, 5)  # the key itself
    assert p.path == "authority.delay.muu"
    assert "did you mean 'mu'?" in p.message
    assert "(allowed: kind, mu, sigma)" in p.message  # members of the selected union type


def test_unknown_key_lists_aliases(tmp_path: Path) -> None:
    p = only(check(tmp_path, variant("  reviewers: 3\n", "  reviewers: 3\n  max_queue: 4\n")))
    assert "did you mean 'max-queue'?" in p.message
    assert "allowed: reviewers, delay, max-queue" in p.message


def test_alias_field_error_located(tmp_path: Path) -> None:
    p = only(check(tmp_path, variant("  reviewers: 3\n", "  reviewers: 3\n  max-queue: lots\n")))
    assert (p.path, p.line, p.col) == ("authority.max-queue", 5, 14)


def test_negative_number_rejected_at_value(tmp_path: Path) -> None:
    p = only(check(tmp_path, variant("initial_cover_days: 20", "initial_cover_days: -5")))
    assert (p.line, p.col) == (13, 25)
    assert p.path == "manufacturers[1].initial_cover_days"
    assert "greater than or equal to 0" in p.message
    assert p.value == -5


def test_missing_field_located_at_parent_mapping(tmp_path: Path) -> None:
    p = only(check(tmp_path, variant("    mu: 1.0\n", "")))
    assert p.message == "required field 'mu' is missing"
    assert p.path == "authority.delay"
    assert (p.line, p.col) == (6, 5)
    assert "got" not in str(p)


def test_missing_top_level_field(tmp_path: Path) -> None:
    p = only(check(tmp_path, variant("name: demo\n", "")))
    assert (p.message, p.path, p.line, p.col) == ("required field 'name' is missing", "", 1, 1)


def test_bad_kind_tag_lists_allowed_tags(tmp_path: Path) -> None:
    p = only(check(tmp_path, variant("kind: lognormal", "kind: lognormall")))
    assert (p.line, p.col) == (6, 11)
    assert p.path == "authority.delay.kind"
    assert "unknown kind 'lognormall'; did you mean 'lognormal'?" in p.message
    assert "'lognormal', 'fixed'" in p.message


def test_missing_kind_tag(tmp_path: Path) -> None:
    p = only(check(tmp_path, variant("    kind: lognormal\n", "")))
    assert p.message.startswith("required field 'kind' is missing")
    assert "'fixed'" in p.message
    assert (p.path, p.line) == ("authority.delay", 6)


def test_error_inside_union_member_skips_tag_in_path(tmp_path: Path) -> None:
    p = only(check(tmp_path, variant("sigma: 0.5", "sigma: -1")))
    assert (p.path, p.line, p.col) == ("authority.delay.sigma", 8, 12)


def test_value_inside_list_of_models(tmp_path: Path) -> None:
    p = only(check(tmp_path, variant("share: 0.5", "share: 1.5")))
    assert p.path == "manufacturers[1].replenishment.share"
    assert (p.line, p.col) == (16, 14)
    assert "less than or equal to 1" in p.message


def test_value_inside_dict_of_models_and_literal_suggestion(tmp_path: Path) -> None:
    p = only(check(tmp_path, variant("    price: 10\n", "    price: 10\n    mode: spt\n")))
    assert p.path == "markets.eu.mode"
    assert (p.line, p.col) == (20, 11)
    assert "'spot' or 'contract'" in p.message
    assert "did you mean 'spot'?" in p.message


def test_all_errors_reported_at_once_in_file_order(tmp_path: Path) -> None:
    text = variant("share: 0.5", "share: 1.5")
    text = text.replace("sigma: 0.5", "sigma: -1").replace("reviewers: 3", "reviewers: x")
    found = check(tmp_path, text)
    assert [(p.path, p.line) for p in found] == [
        ("authority.reviewers", 4),
        ("authority.delay.sigma", 8),
        ("manufacturers[1].replenishment.share", 16),
    ]
    with pytest.raises(ScenarioError) as info:
        validate(load_located(tmp_path / "scenario.yaml"), Scenario)
    assert len(str(info.value).splitlines()) == 3


def test_mapping_expected_message(tmp_path: Path) -> None:
    p = only(
        check(
            tmp_path,
            variant(
                "    replenishment:\n      review_days: 7\n      share: 0.5\n",
                "    replenishment: weekly\n",
            ),
        )
    )
    assert p.path == "manufacturers[1].replenishment"
    assert "expected a mapping" in p.message


def test_field_problems_from_model_validator_are_expanded(tmp_path: Path) -> None:
    p = only(check(tmp_path, variant("id: eu_motors", "id: us_automaker")))
    assert p.message == "duplicate id 'us_automaker'"
    assert p.path == "manufacturers[1].id"
    assert (p.line, p.col) == (12, 9)


def test_field_problems_from_nested_validator(tmp_path: Path) -> None:
    p = only(check(tmp_path, variant("    price: 10\n", "    price: 0\n    mode: contract\n")))
    assert p.path == "markets.eu.price"
    assert (p.line, p.col) == (19, 12)
    assert p.message == "a contract needs a price above 0"


# ------------------------------------------------------------------ refusing bad files


def test_duplicate_key(tmp_path: Path) -> None:
    path = write(tmp_path, "name: a\nstart: 2025-01-01\nname: b\n")
    p = only(problems(lambda: load_yaml(path)))
    assert p.message == "duplicate key 'name' (first defined at line 1)"
    assert (p.line, p.col) == (3, 1)


def test_tabs_get_a_hint(tmp_path: Path) -> None:
    path = write(tmp_path, "authority:\n\treviewers: 3\n")
    p = only(problems(lambda: load_yaml(path)))
    assert (p.file, p.line, p.col) == (str(path), 2, 1)
    assert "YAML does not allow tab characters for indentation; use spaces" in p.message


def test_syntax_error_located(tmp_path: Path) -> None:
    path = write(tmp_path, "name: demo\nnote: a: b\n")
    p = only(problems(lambda: load_yaml(path)))
    assert (p.line, p.col) == (2, 8)
    assert p.message.startswith("YAML syntax error: mapping values are not allowed")


def test_unclosed_bracket_mentions_where_it_started(tmp_path: Path) -> None:
    path = write(tmp_path, "name: demo\nauthority: [1, 2\nstart: x\n")
    p = only(problems(lambda: load_yaml(path)))
    assert p.line == 3
    assert "line 2" in p.message


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("name: !!python/object/apply:os.system ['echo hi']\n", "!!python/object/apply:os.system"),
        ("name: !custom 3\n", "!custom"),
        ("name: !!set {a, b}\n", "!!set"),
    ],
)
def test_non_plain_tags_refused(tmp_path: Path, text: str, tag: str) -> None:
    path = write(tmp_path, text)
    p = only(problems(lambda: load_yaml(path)))
    assert p.message.startswith(f"tag {tag} is not allowed (only plain YAML")
    assert (p.line, p.col, p.path) == (1, 7, "name")


def test_billion_laughs_refused_fast(tmp_path: Path) -> None:
    lines = ['l0: &l0 "lol"']
    for level in range(1, 10):
        refs = ", ".join([f"*l{level - 1}"] * 9)
        lines.append(f"l{level}: &l{level} [{refs}]")
    path = write(tmp_path, "\n".join(lines) + "\n")
    start = time.perf_counter()
    p = only(problems(lambda: load_yaml(path)))
    assert time.perf_counter() - start < 1.0
    assert "200,000" in p.message
    assert p.line is not None


def test_recursive_alias_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "a: &a [1, *a]\n")
    assert "recursive alias" in only(problems(lambda: load_yaml(path))).message


def test_oversized_file_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as fh:
        fh.truncate(52_428_800)  # sparse: instant to create, would be slow to parse
    p = only(problems(lambda: load_yaml(path)))
    assert p.message == "file is 52,428,800 bytes; the limit is 5,000,000 bytes"


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: demo\ncity: Montr\u00e9al\n".encode("latin-1"))
    p = only(problems(lambda: load_yaml(path)))
    assert p.message == "file is not valid UTF-8 text (byte 0xe9 at offset 22)"
    assert (p.line, p.col) == (2, 12)


@pytest.mark.parametrize("text", ["", "# only a comment\n\n", "---\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    p = only(problems(lambda: load_yaml(path)))
    assert p.message.startswith("the file is empty: expected a mapping")


def test_top_level_must_be_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "- a\n- b\n")
    p = only(problems(lambda: load_yaml(path)))
    assert "top level must be a mapping" in p.message
    assert (p.line, p.col) == (1, 1)


def test_missing_file(tmp_path: Path) -> None:
    p = only(problems(lambda: load_located(tmp_path / "nope.yaml")))
    assert p.message == "file not found"


def test_multiple_documents_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "name: a\n---\nname: b\n")
    p = only(problems(lambda: load_yaml(path)))
    assert p.line == 2
    assert "single document" in p.message


def test_500_line_file_loads_fast(tmp_path: Path) -> None:
    rows = [GOOD]
    for i in range(80):
        rows.append(f"  - id: m{i}\n    initial_cover_days: {i}\n")
        rows.append("    replenishment:\n      review_days: 7\n      share: 0.5\n")
    text = GOOD.replace("markets:\n  eu:\n    price: 10\n", "") + "".join(rows[1:])
    assert len(text.splitlines()) >= 400
    path = write(tmp_path, text)
    best = min(_timed(lambda: load_located(path)) for _ in range(5))
    assert best < 0.05


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# ------------------------------------------------------------------ extends


def test_extends_deep_merges_mappings_and_named_list_items(tmp_path: Path) -> None:
    base = write(tmp_path, GOOD, "base.yaml")
    child = write(
        tmp_path,
        """\
        extends: base.yaml
        name: child
        authority:
          reviewers: 5
        manufacturers:
          - id: solo
            initial_cover_days: 1
          - id: eu_motors
            initial_cover_days: 25
        """,
        "child.yaml",
    )
    loc = load_located(child)
    assert "extends" not in loc.data
    assert loc.files == [str(base), str(child)]
    assert loc.data["name"] == "child"
    assert loc.data["authority"]["reviewers"] == 5
    assert loc.data["authority"]["delay"]["sigma"] == 0.5  # inherited, merged key by key
    # items named by id merge onto the inherited item of the same id, in its place;
    # new ids are appended
    assert loc.data["manufacturers"] == [
        {"id": "us_automaker", "initial_cover_days": 30},
        {
            "id": "eu_motors",
            "initial_cover_days": 25,
            "replenishment": {"review_days": 7, "share": 0.5},
        },
        {"id": "solo", "initial_cover_days": 1},
    ]
    assert loc.data["markets"] == {"eu": {"price": 10}}
    assert loc.pos[("authority", "reviewers")] == (str(child), 4, 14)
    assert loc.pos[("authority", "delay", "sigma")] == (str(base), 8, 12)
    assert loc.pos[("manufacturers", 0, "initial_cover_days")][0] == str(base)
    assert loc.pos[("manufacturers", 1, "initial_cover_days")] == (str(child), 9, 25)
    assert loc.pos[("manufacturers", 1, "replenishment", "share")][0] == str(base)
    assert loc.pos[("manufacturers", 2, "initial_cover_days")] == (str(child), 7, 25)
    assert ("manufacturers", 3) not in loc.pos
    assert validate(loc, Scenario).name == "child"


def test_extends_removes_named_items_and_replaces_other_lists(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "base.yaml")
    child = write(
        tmp_path,
        """\
        extends: base.yaml
        name: child
        manufacturers:
          - {id: us_automaker, $remove: true}
        """,
        "child.yaml",
    )
    assert [m["id"] for m in load_located(child).data["manufacturers"]] == ["eu_motors"]
    cleared = write(tmp_path, "extends: base.yaml\nname: c\nmanufacturers: []\n", "c.yaml")
    assert load_located(cleared).data["manufacturers"] == []  # an empty list clears
    dates = write(
        tmp_path,
        "extends: base.yaml\nname: d\ncalendar: {extra_holidays: [2025-03-03]}\n",
        "d.yaml",
    )
    base_dates = write(
        tmp_path,
        "extends: d.yaml\nname: e\ncalendar: {extra_holidays: [2025-03-04]}\n",
        "e.yaml",
    )
    # items without an id or name (dates, general licences, rules) replace the list
    assert load_located(base_dates).data["calendar"]["extra_holidays"] == [date(2025, 3, 4)]
    assert load_located(dates).data["calendar"]["extra_holidays"] == [date(2025, 3, 3)]


@pytest.mark.parametrize(
    ("items", "where", "message"),
    [
        (
            "  - {id: nobody, $remove: true}",
            (4, 18),
            "nothing named 'nobody' is inherited, so there is nothing to remove "
            "(inherited: eu_motors, us_automaker)",
        ),
        (
            "  - {id: us_automaker, $remove: yes}",
            (4, 33),
            "$remove must be true",
        ),
        (
            "  - {id: us_automaker, $remove: true, initial_cover_days: 3}",
            (4, 39),
            "an item with $remove: true is deleted, so it takes only its id or name "
            "(found initial_cover_days)",
        ),
        (
            "  - {id: solo, initial_cover_days: 1}\n  - {id: solo, initial_cover_days: 2}",
            (5, 5),
            "a second item named 'solo' in this list",
        ),
    ],
    ids=["remove-unknown", "remove-not-true", "remove-with-fields", "duplicate"],
)
def test_extends_list_merge_errors_are_located(
    tmp_path: Path, items: str, where: tuple[int, int], message: str
) -> None:
    write(tmp_path, GOOD, "base.yaml")
    child = write(
        tmp_path, f"extends: base.yaml\nname: child\nmanufacturers:\n{items}\n", "child.yaml"
    )
    p = only(problems(lambda: load_located(child)))
    assert (p.file, p.line, p.col) == (str(child), *where)
    assert message in p.message


def test_inherited_error_points_into_base_file(tmp_path: Path) -> None:
    base = write(tmp_path, variant("sigma: 0.5", "sigma: -1"), "base.yaml")
    child = write(tmp_path, "extends: base.yaml\nname: child\n", "child.yaml")
    p = only(problems(lambda: validate(load_located(child), Scenario)))
    assert (p.file, p.line, p.col) == (str(base), 8, 12)


def test_extends_list_applied_in_order_and_relative_to_includer(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "bases/base.yaml")
    write(tmp_path, "authority:\n  reviewers: 8\n", "bases/more.yaml")
    child = write(
        tmp_path, "extends: [../bases/base.yaml, ../bases/more.yaml]\nname: x\n", "runs/x.yaml"
    )
    # bases/ is outside the scenario's folder (runs/): read only when allowed
    p = only(problems(lambda: load_located(child)))
    assert p.message.startswith(f"extends: {tmp_path / 'bases' / 'base.yaml'} is outside ")
    assert (p.file, p.line, p.col, p.path) == (str(child), 1, 11, "extends[0]")
    loc = load_located(child, allow=[tmp_path / "bases"])
    assert loc.data["authority"]["reviewers"] == 8
    assert loc.data["authority"]["delay"]["kind"] == "lognormal"
    assert len(loc.files) == 3 and loc.files[-1] == str(child)


def test_extends_cycle_detected(tmp_path: Path) -> None:
    a = write(tmp_path, "extends: b.yaml\nname: a\n", "a.yaml")
    b = write(tmp_path, "extends: a.yaml\nname: b\n", "b.yaml")
    p = only(problems(lambda: load_located(a)))
    assert p.message == f"extends cycle: {a} -> {b} -> {a}"
    assert (p.file, p.line, p.col) == (str(b), 1, 10)


def test_extends_missing_file_located(tmp_path: Path) -> None:
    a = write(tmp_path, "name: a\nextends: nope.yaml\n", "a.yaml")
    p = only(problems(lambda: load_located(a)))
    assert p.message == f"extends: file not found: {tmp_path / 'nope.yaml'}"
    assert (p.file, p.line, p.col) == (str(a), 2, 10)


def test_extends_must_name_files(tmp_path: Path) -> None:
    a = write(tmp_path, "extends: 3\n", "a.yaml")
    assert "extends must be a file name" in only(problems(lambda: load_located(a))).message


# ------------------------------------------------------------------ overrides


def test_overrides_by_dot_index_and_id(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    loc = load_located(
        path,
        {
            "authority.reviewers": 30,
            "manufacturers[0].initial_cover_days": 9,
            "manufacturers.1.initial_cover_days": 8,
            "manufacturers[eu_motors].replenishment.share": 0.25,
        },
    )
    scenario = validate(loc, Scenario)
    assert scenario.authority.reviewers == 30
    assert [m.initial_cover_days for m in scenario.manufacturers] == [9, 8]
    assert scenario.manufacturers[1].replenishment is not None
    assert scenario.manufacturers[1].replenishment.share == 0.25
    assert loc.pos[("authority", "delay")][0] == str(path)  # untouched values keep positions


def test_overrides_create_missing_mappings(tmp_path: Path) -> None:
    loc = load_located(write(tmp_path, GOOD), {"markets.us.price": 3, "flags.a.b": True})
    scenario = validate(loc, Scenario)
    assert scenario.markets["us"].price == 3
    assert scenario.flags == {"a": {"b": True}}


def test_override_error_names_the_option(tmp_path: Path) -> None:
    key, value = parse_set_option("authority.reviewers=abc")
    loc = load_located(write(tmp_path, GOOD), {key: value})
    p = only(problems(lambda: validate(loc, Scenario)))
    assert p.file == "--set authority.reviewers=abc"
    assert p.line is None
    assert str(p).startswith("--set authority.reviewers=abc: authority.reviewers: ")


def test_override_does_not_modify_input(tmp_path: Path) -> None:
    loc = load_yaml(write(tmp_path, GOOD))
    new = apply_overrides(loc, {"authority.reviewers": 1})
    assert loc.data["authority"]["reviewers"] == 3
    assert new.data["authority"]["reviewers"] == 1
    assert new.pos[("authority", "reviewers")] == ("<override> authority.reviewers=1", 0, 0)


def test_shared_override_copies_only_the_paths_it_changes(tmp_path: Path) -> None:
    """``share=True`` gives the same data and positions as a full copy, leaves the input
    as it was, and shares what it did not change."""
    import copy

    loc = load_yaml(write(tmp_path, GOOD))
    before = copy.deepcopy(loc.data)
    ov = {"authority.reviewers": 1, "manufacturers[0].initial_cover_days": 9, "x.y": 2}
    full, shared = apply_overrides(loc, ov), apply_overrides(loc, ov, share=True)
    assert shared.data == full.data and shared.pos == full.pos and shared.keypos == full.keypos
    assert loc.data == before
    assert shared.data["authority"] is not loc.data["authority"]
    assert shared.data["manufacturers"][0] is not loc.data["manufacturers"][0]
    untouched = [k for k in loc.data if k not in ("authority", "manufacturers", "x")]
    assert any(isinstance(loc.data[k], dict | list) for k in untouched)
    for k in untouched:
        assert shared.data[k] is loc.data[k]


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        ("manufacturers[5].initial_cover_days", "index 5 is out of range"),
        ("manufacturers[nobody].initial_cover_days", "no element with id 'nobody'"),
        ("name.first", "is a string ('demo'), not a mapping or list"),
        ("authority..reviewers", "cannot read the path"),
    ],
)
def test_bad_override_paths(tmp_path: Path, key: str, fragment: str) -> None:
    path = write(tmp_path, GOOD)
    p = only(problems(lambda: load_located(path, {key: 1})))
    assert fragment in p.message
    assert p.file == f"--set {key}=1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("authority.reviewers=30", ("authority.reviewers", 30)),
        ("a=0.25", ("a", 0.25)),
        ("a=true", ("a", True)),
        ("a=False", ("a", False)),
        ("a=null", ("a", None)),
        ("a=us_automaker", ("a", "us_automaker")),
        ("a='30'", ("a", "30")),
        ("a=[1, 2, x]", ("a", [1, 2, "x"])),
        ("a={b: 1}", ("a", {"b": 1})),
        ("a=2025-06-01", ("a", date(2025, 6, 1))),
        ("a=x=y", ("a", "x=y")),
        ("a=note: not a mapping", ("a", "note: not a mapping")),
        (" a = 3 ", ("a", 3)),
        ("a=", ("a", "")),
    ],
)
def test_parse_set_option(text: str, expected: tuple[str, Any]) -> None:
    assert parse_set_option(text) == expected


@pytest.mark.parametrize("text", ["noequals", "=3", "a=[1, 2", "a=!!python/name:os.system ''"])
def test_parse_set_option_errors(text: str) -> None:
    with pytest.raises(ScenarioError):
        parse_set_option(text)


# ------------------------------------------------------------------ dumping


def test_to_yaml_round_trips(tmp_path: Path) -> None:
    loc = load_located(write(tmp_path, GOOD), {"authority.reviewers": 4})
    text = to_yaml(loc.data)
    assert "start: 2025-01-01\n" in text
    assert text.index("name:") < text.index("authority:") < text.index("markets:")
    again = load_yaml(write(tmp_path, text, "resolved.yaml"))
    assert again.data == loc.data


def test_to_yaml_accepts_models_and_tuples() -> None:
    text = to_yaml({"m": Market(price=2), "t": (1, 2), "s": "caf\u00e9"})
    assert text == "m:\n  price: 2.0\n  mode: spot\nt:\n- 1\n- 2\ns: caf\u00e9\n"


def test_located_problem_helper() -> None:
    loc = Located({"a": {"b": 1}}, {(): ("f.yaml", 1, 1), ("a",): ("f.yaml", 2, 3)})
    p = loc.problem(("a", "b", "c"), "bad", 1)
    assert str(p) == "f.yaml:2:3: a.b.c: bad (got 1)"
