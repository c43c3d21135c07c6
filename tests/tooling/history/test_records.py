"""The deploy history's joining of Pulumi's updates with Helm's records."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.tooling.history.helm_records import helm_secret, update
from tooling.history.records import deploys, helm_revision, values_digest

DIGEST = "sha256:" + "1" * 64


def _values(concurrency: int = 16) -> dict:
    return {
        "images": {"airflow": {"repository": "registry/dags", "tag": "abc", "digest": DIGEST}},
        "workers": {"celery": {"concurrency": concurrency}},
    }


def test_a_record_gives_revision_chart_airflow_image_and_digest() -> None:
    revision = helm_revision(helm_secret(7, "2026-12-02T00:41:07.123456789Z", _values()))
    assert revision.revision == 7
    assert revision.chart == "airflow-1.22.0"
    assert revision.app_version == "3.2.2"
    assert revision.image == f"registry/dags@{DIGEST}"
    assert revision.status == "deployed"
    assert revision.deployed_at == datetime(2026, 12, 2, 0, 41, 7, 123456, tzinfo=UTC)


def test_an_image_without_digest_is_shown_by_tag() -> None:
    values = {"images": {"airflow": {"repository": "registry/dags", "tag": "abc"}}}
    assert helm_revision(helm_secret(1, "2026-12-02T00:00:00Z", values)).image == "registry/dags:abc"


def test_the_digest_ignores_key_order_and_follows_every_value() -> None:
    assert values_digest({"a": 1, "b": {"c": 2, "d": 3}}) == values_digest({"b": {"d": 3, "c": 2}, "a": 1})
    assert values_digest(_values(16)) != values_digest(_values(17))
    assert len(values_digest({})) == 12


def test_each_update_gets_the_revision_it_wrote_or_the_one_in_effect() -> None:
    revisions = [
        helm_revision(helm_secret(1, "2026-12-02T00:00:30.5Z", _values(16), status="superseded")),
        helm_revision(helm_secret(2, "2026-12-02T00:10:20.5Z", _values(17))),
    ]
    updates = [
        update(1, "2026-12-02T00:00:00Z", "2026-12-02T00:02:00Z", commit="1" * 40),
        update(2, "2026-12-02T00:05:00Z", "2026-12-02T00:05:30Z", commit="2" * 40),  # changed no value
        update(3, "2026-12-02T00:10:00Z", "2026-12-02T00:12:00Z", commit="3" * 40),
    ]
    found = deploys(updates, revisions)
    assert [d.version for d in found] == [3, 2, 1]  # newest first
    by_version = {d.version: d for d in found}
    assert by_version[1].helm is not None
    assert by_version[1].helm.revision == 1
    assert by_version[1].wrote_revision
    assert by_version[2].helm is not None
    assert by_version[2].helm.revision == 1
    assert not by_version[2].wrote_revision
    assert by_version[3].helm is not None
    assert by_version[3].helm.revision == 2
    assert by_version[3].helm.values_digest != by_version[1].helm.values_digest
    assert by_version[2].commit == "2" * 40


def test_an_update_before_every_record_has_none() -> None:
    revisions = [helm_revision(helm_secret(5, "2026-12-02T01:00:00Z", _values()))]
    (only,) = deploys([update(1, "2026-12-02T00:00:00Z", "2026-12-02T00:01:00Z")], revisions)
    assert only.helm is None


def test_commit_dirtiness_and_kind_come_from_the_update() -> None:
    dirty = update(1, "2026-12-02T00:00:00Z", "2026-12-02T00:01:00Z")
    dirty["environment"]["git.dirty"] = "true"
    refresh = update(2, "2026-12-02T00:02:00Z", "2026-12-02T00:03:00Z", commit=None, kind="refresh")
    first, second = sorted(deploys([dirty, refresh], []), key=lambda d: d.version)
    assert first.dirty
    assert first.can_be_rolled_back_to
    assert second.commit is None
    assert not second.can_be_rolled_back_to


def test_an_update_still_running_has_no_end() -> None:
    running = update(1, "2026-12-02T00:00:00Z", "", result="in-progress")
    del running["endTime"]
    (only,) = deploys([running], [])
    assert only.ended is None
    assert not only.can_be_rolled_back_to


def test_updates_of_a_self_managed_backend_are_numbered_from_the_oldest() -> None:
    # Newest first, as the CLI lists them; a file backend records version 0 for each.
    updates = [
        update(0, "2026-12-02T00:10:00Z", "2026-12-02T00:11:00Z", commit="3" * 40),
        update(0, "2026-12-02T00:05:00Z", "2026-12-02T00:06:00Z", commit="2" * 40),
        update(0, "2026-12-02T00:00:00Z", "2026-12-02T00:01:00Z", commit="1" * 40),
    ]
    found = deploys(updates, [])
    assert [(d.version, d.commit[:1] if d.commit else "") for d in found] == [(3, "3"), (2, "2"), (1, "1")]


def test_the_versions_a_backend_keeps_are_its_own() -> None:
    updates = [
        update(41, "2026-12-02T00:10:00Z", "2026-12-02T00:11:00Z"),
        update(40, "2026-12-02T00:05:00Z", "2026-12-02T00:06:00Z"),
    ]
    assert [d.version for d in deploys(updates, [])] == [41, 40]
