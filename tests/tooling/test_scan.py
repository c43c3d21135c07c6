"""The scan's bookkeeping: what docs/checkov.md justifies, and what is left unexplained or stale."""

from __future__ import annotations

import re

from tooling.scan import DOC, Finding, justifications, unexplained

DOC_TEXT = """
## CKV_K8S_11: CPU limits
Objects: all

Deliberate.

## CKV_K8S_40: high UID
Objects: StatefulSet/airflow-redis, `StatefulSet/airflow-postgresql`

Their images' users.
"""


def test_the_page_names_objects_per_check() -> None:
    assert justifications(DOC_TEXT) == {
        "CKV_K8S_11": frozenset({"all"}),
        "CKV_K8S_40": frozenset({"StatefulSet/airflow-redis", "StatefulSet/airflow-postgresql"}),
    }


def test_a_finding_the_page_does_not_name_is_unexplained_and_a_fixed_one_is_stale() -> None:
    findings = {
        Finding("CKV_K8S_11", "Deployment", "airflow-scheduler"),
        Finding("CKV_K8S_40", "StatefulSet", "airflow-redis"),
        Finding("CKV_K8S_22", "Deployment", "airflow-statsd"),
    }
    new, stale = unexplained(findings, justifications(DOC_TEXT))
    assert new == ["CKV_K8S_22 Deployment/airflow-statsd"]
    assert stale == ["CKV_K8S_40 StatefulSet/airflow-postgresql"]


def test_a_check_justified_for_all_objects_goes_stale_when_none_is_found() -> None:
    new, stale = unexplained(set(), justifications(DOC_TEXT))
    assert (new, stale[0]) == ([], "CKV_K8S_11 all")


def test_every_heading_of_the_shipped_page_has_its_objects_line() -> None:
    """A heading without ``Objects:`` would justify nothing, and its findings would fail CI unexplained."""
    text = DOC.read_text()
    headings = re.findall(r"^## (CKV_K8S_\d+)", text, flags=re.MULTILINE)
    assert headings
    assert sorted(headings) == sorted(justifications(text))
