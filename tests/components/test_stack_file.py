"""The stack file is read as the Pulumi CLI (gopkg.in/yaml.v3 + config.object) reads it, or refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.stack_file import Secure, StackFileError, engine_config, read_stack_file


def read(tmp_path: Path, text: str | bytes) -> dict:
    path = tmp_path / "Pulumi.test.yaml"
    if isinstance(text, str):
        path.write_text(text)
    else:
        path.write_bytes(text)
    return read_stack_file(path)


def refusal(tmp_path: Path, text: str | bytes) -> str:
    with pytest.raises(StackFileError) as err:
        read(tmp_path, text)
    return str(err.value)


def test_a_top_level_scalar_is_typed_then_passed_as_its_json_text(tmp_path: Path) -> None:
    """As the real CLI 3.274.1 passed them (tests/components/test_stack_file_vs_cli.py runs it)."""
    entries = read(
        tmp_path,
        "config:\n  airflow:a: off\n  airflow:b: True\n  airflow:c: 010\n  airflow:d:\n"
        "  airflow:e: ~\n  airflow:f: 1e3\n  airflow:g: 'quoted'\n  airflow:h: '010'\n",
    )
    assert entries == {
        "airflow:a": "off",
        "airflow:b": "true",
        "airflow:c": "8",
        "airflow:d": "",
        "airflow:e": "",
        "airflow:f": "1000",
        "airflow:g": "quoted",
        "airflow:h": "010",
    }


def test_inside_an_object_plain_scalars_resolve_as_yaml_v3_does(tmp_path: Path) -> None:
    entries = read(
        tmp_path,
        "config:\n  airflow:o:\n    off: off\n    yes: 'yes'\n    short: n\n    true: TRUE\n"
        "    octal: 010\n    hex: 0x1F\n    big: 1_000\n    float: 1.5\n    exp: 1e3\n    dot: .5\n"
        "    empty:\n    text: hello\n    1: one\n",
    )
    # Only true and false are booleans; a key that is one is printed as Go's %v prints it.
    assert entries["airflow:o"] == {
        "off": "off",
        "yes": "yes",
        "short": "n",
        "true": True,
        "octal": 8,
        "hex": 31,
        "big": 1000,
        "float": 1.5,
        "exp": 1000.0,
        "dot": 0.5,
        "empty": None,
        "text": "hello",
        "1": "one",
    }


@pytest.mark.parametrize("value", ["2026-11-25", "{when: 2026-11-25T10:00:00Z}"])
def test_an_unquoted_date_is_refused_since_the_cli_passes_it_as_go_prints_a_time(
    tmp_path: Path, value: str
) -> None:
    assert "is an unquoted date or time, which the Pulumi CLI passes on as Go prints a time" in refusal(
        tmp_path, f"config:\n  airflow:a: {value}\n"
    )


def test_objects_reach_the_program_as_json_and_secure_values_as_stand_ins(tmp_path: Path) -> None:
    entries = read(
        tmp_path,
        "config:\n  airflow:s:\n    secure: v1:AAAA\n  airflow:o: {a: {secure: v1:BBBB}, b: [1, on]}\n"
        "  aws:region: eu-west-1\n",
    )
    assert entries["airflow:s"] == Secure("v1:AAAA")
    config, secret_keys = engine_config(entries, lambda key: f"secret-of-{key}")
    assert config == {
        "airflow:s": "secret-of-airflow:s",
        "airflow:o": '{"a":"secret-of-airflow:o","b":[1,"on"]}',
        "aws:region": "eu-west-1",
    }
    assert secret_keys == ["airflow:s", "airflow:o"]


def test_the_old_config_module_form_of_a_key_is_the_same_key(tmp_path: Path) -> None:
    assert read(tmp_path, "config:\n  airflow:config:executor: CeleryExecutor\n") == {
        "airflow:executor": "CeleryExecutor"
    }


def test_merge_keys_apply_and_explicit_keys_win(tmp_path: Path) -> None:
    entries = read(
        tmp_path,
        "base: &base {replicas: 2, resources: {cpu: 1}}\nconfig:\n  airflow:scheduler:\n    <<: *base\n"
        "    replicas: 3\n",
    )
    assert entries == {"airflow:scheduler": {"replicas": 3, "resources": {"cpu": 1}}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "config:\n  executor: CeleryExecutor\n",
            "Pulumi.test.yaml:2: config key 'executor' is not of the form",
        ),
        ("config:\n  a:b:c: x\n", "config key 'a:b:c' is not of the form namespace:name"),
        (
            "config:\n  airflow:executor: A\n  airflow:executor: B\n",
            "Pulumi.test.yaml:3: key 'airflow:executor' under config is also set on line 2",
        ),
        (
            "config:\n  airflow:dags:\n    delivery: image\n    delivery: configmap\n",
            "Pulumi.test.yaml:4: key 'delivery' under airflow:dags is also set on line 3",
        ),
        ("config:\n  airflow:o: &a\n    self: *a\n", "airflow:o.self: an anchor's value contains itself"),
        ("config:\n  airflow:o: [&a [*a]]\n", "an anchor's value contains itself"),
        (
            "config:\n  airflow:o: {t: .inf}\n",
            "airflow:o.t: '.inf' is not a number the Pulumi CLI can pass on",
        ),
        ("config:\n  airflow:o: {t: .nan}\n", "refuses infinities and NaN"),
        ("config:\n  airflow:o: {t: !custom x}\n", "the YAML tag '!custom' means nothing in a stack file"),
        ("config:\n  airflow:o: {? [a]: x}\n", "a key must be a plain value"),
        ("config: [a, b]\n", "'config' must be a mapping"),
        ("- a\n- b\n", "must be a mapping with a 'config' key"),
        ("config:\n  airflow:a: [unclosed\n", "is not valid YAML: line"),
        (b"config:\n  airflow:a: caf\xe9\n", "Pulumi.test.yaml:2: byte 24 is not UTF-8"),
    ],
)
def test_a_file_the_cli_would_refuse_or_misread_gets_one_line_naming_the_spot(
    tmp_path: Path, text: str | bytes, expected: str
) -> None:
    message = refusal(tmp_path, text)
    assert expected in message
    assert "Traceback" not in message


def test_a_yaml_bomb_stops_instead_of_expanding(tmp_path: Path) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    text = "bomb:\n" + "".join(f"  {line}\n" for line in levels) + "config:\n  airflow:o: *a8\n"
    assert "values once aliases are expanded" in refusal(tmp_path, text)


def test_a_utf8_byte_order_mark_is_dropped_as_the_cli_drops_it(tmp_path: Path) -> None:
    assert read(tmp_path, b"\xef\xbb\xbfconfig:\n  airflow:executor: CeleryExecutor\n") == {
        "airflow:executor": "CeleryExecutor"
    }


def test_an_empty_file_or_config_is_no_config(tmp_path: Path) -> None:
    assert read(tmp_path, "") == {}
    assert read(tmp_path, "config:\n") == {}


def test_a_missing_file_names_the_stacks_that_exist(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    with pytest.raises(StackFileError, match=r"Pulumi.nope.yaml not found; stacks here: Pulumi.dev.yaml"):
        read_stack_file(tmp_path / "Pulumi.nope.yaml")


@pytest.mark.parametrize("value", [".inf", "-.Inf", ".nan"])
def test_a_top_level_infinity_is_named_as_the_cli_refuses_it(tmp_path: Path, value: str) -> None:
    assert refusal(tmp_path, f"config:\n  airflow:a: {value}\n") == (
        f"Pulumi.test.yaml:2: airflow:a: {value!r} is not a number the Pulumi CLI can pass on (it refuses "
        "infinities and NaN); write a finite number"
    )
