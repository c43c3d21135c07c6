"""Credentials in the wrong place: refused in one line, never echoed, never in the values."""

from __future__ import annotations

import pytest

from components.model import ConfigError
from components.redact import redact
from components.validation import parse_settings
from tests.hostile.conftest import GIT_SYNC, PASSWORD, TOKEN, Refused
from tooling.offline.trial import THROWAWAY_STACK


@pytest.mark.parametrize(
    "repo",
    [f"https://bot:{TOKEN}@github.com/acme/dags.git", f"https://{TOKEN}@github.com/acme/dags.git"],
)
def test_a_git_url_with_a_token_is_refused_without_echoing_it(refused: Refused, repo: str) -> None:
    err = refused(THROWAWAY_STACK + GIT_SYNC + f"      repo: {repo}\n")
    assert "airflow:dags.gitSync.repo in Pulumi.test.yaml: embeds a credential" in err
    assert "pulumi config set --secret airflow:gitSshKey" in err
    assert TOKEN not in err


def test_an_ssh_url_with_a_password_is_refused_and_never_reaches_the_values(refused: Refused) -> None:
    err = refused(
        THROWAWAY_STACK + GIT_SYNC + f"      repo: ssh://deploy:{PASSWORD}@git.example.com/dags.git\n"
        "      knownHosts: git.example.com ssh-ed25519 AAAA\n",
    )
    assert "embeds a credential" in err
    assert PASSWORD not in err


def test_a_connection_url_pasted_into_a_plain_key_is_masked(refused: Refused) -> None:
    err = refused(
        THROWAWAY_STACK + "  airflow:database:\n    mode: external\n"
        f"    existingSecretName: postgresql://airflow:{PASSWORD}@db.example.com:5432/airflow\n",
    )
    assert "airflow:database.existingSecretName in Pulumi.test.yaml: must be a DNS label" in err
    assert "postgresql://***@db.example.com" in err
    assert PASSWORD not in err


def test_a_credential_in_a_plain_key_that_would_accept_it_is_refused(refused: Refused) -> None:
    """admin.firstName takes any word: a token there would go into the chart values and the state."""
    err = refused(THROWAWAY_STACK + f"  airflow:admin: {{firstName: {TOKEN}, lastName: 'x=password=abc'}}\n")
    because = (
        " in Pulumi.test.yaml looks like it holds a credential (value not shown), and it is not a secret "
        "key: its value would be stored in plain text in the state and the chart values. Keep credentials "
        "in Secrets or in 'pulumi config set --secret' keys"
    )
    assert err.splitlines() == [
        f"error: airflow:admin.firstName{because}",
        f"airflow:admin.lastName{because}",
    ]


def test_a_private_key_pasted_as_known_hosts_is_refused_unseen(refused: Refused) -> None:
    key_body = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"
    err = refused(
        THROWAWAY_STACK + GIT_SYNC + "      repo: git@github.com:acme/dags.git\n      knownHosts: |\n"
        f"        -----BEGIN OPENSSH PRIVATE KEY-----\n        {key_body}\n"
        "        -----END OPENSSH PRIVATE KEY-----\n",
    )
    assert "airflow:dags.gitSync.knownHosts in Pulumi.test.yaml: must be known_hosts lines" in err
    assert key_body not in err
    assert "PRIVATE KEY" not in err


def test_a_token_in_any_other_key_is_masked(refused: Refused) -> None:
    err = refused(THROWAWAY_STACK + f"  airflow:namespace: {TOKEN}\n")
    assert "airflow:namespace in Pulumi.test.yaml: must be a DNS label" in err
    assert TOKEN not in err


@pytest.mark.parametrize(
    "repo",
    [
        f"https://gitlab.com/acme/dags.git?private_token={TOKEN}",
        f"https://github.com/acme/dags.git#{TOKEN}",
        f"ssh://git@git.example.com/dags.git?key={PASSWORD}",
    ],
)
def test_a_credential_in_a_git_url_s_query_or_fragment_is_refused_unseen(refused: Refused, repo: str) -> None:
    err = refused(
        THROWAWAY_STACK + GIT_SYNC + f"      repo: '{repo}'\n      knownHosts: h ssh-ed25519 AAAA\n"
    )
    assert "airflow:dags.gitSync.repo in Pulumi.test.yaml: " in err
    assert "query" in err
    assert TOKEN not in err
    assert PASSWORD not in err


def test_masking_a_long_run_of_separators_takes_linear_time() -> None:
    """150 KB of '-:' made the user:password@ pattern backtrack for hours; a hang guard, not a timing."""
    import signal

    from components.redact import redact

    def hang(*_: object) -> None:
        raise TimeoutError("redact did not return within 60 s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(60)
    try:
        text = "-:" * 75_000
        assert redact(text) == text
        assert redact(f"{'-:' * 75_000} bot:{PASSWORD}@git.example.com:dags").endswith(
            "***@git.example.com:dags"
        )
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_huge_separator_run_in_a_plain_key_is_refused_in_one_line(refused: Refused) -> None:
    err = refused(THROWAWAY_STACK + f"  airflow:admin: {{firstName: '{'-:' * 75_000}'}}\n")
    assert err.startswith("error: airflow:admin.firstName in Pulumi.test.yaml: must be 1 to 64 characters")
    assert len(err) < 2_000


RANDOM_LOOKING_FOLDERS = "ci/Ab12Cd34Ef/Build7Output/Xy7Zq9Lm2Np4Rs6Tv8"  # as mktemp and CI runners name them


@pytest.mark.parametrize(
    "dags",
    [
        {"delivery": "configmap", "folder": RANDOM_LOOKING_FOLDERS},
        {
            "delivery": "git-sync",
            "gitSync": {"repo": "https://github.com/acme/dags.git", "subPath": RANDOM_LOOKING_FOLDERS},
        },
    ],
)
def test_a_path_with_random_looking_folders_is_no_credential(dags: dict) -> None:
    """A path is not a token because its folders were named at random; it is checked for what a
    credential looks like itself (a token format, a password pair). The stack is otherwise valid, so
    it parses."""
    settings = parse_settings(
        {"protectStatefulResources": False, "dags": dags}, source="Pulumi.test.yaml", offline=True
    )
    assert RANDOM_LOOKING_FOLDERS in (settings.dags.folder, getattr(settings.dags.git, "sub_path", None))


def test_a_token_pasted_as_a_path_is_still_refused() -> None:
    with pytest.raises(
        ConfigError, match=r"dags\.folder in Pulumi\.test\.yaml looks like it holds a credential"
    ):
        parse_settings(
            {"dags": {"delivery": "configmap", "folder": f"dags/{TOKEN}"}},
            source="Pulumi.test.yaml",
            offline=True,
        )


def test_an_image_pinned_by_digest_is_no_credential_but_a_password_before_a_host_still_is() -> None:
    """``name:tag@sha256:...`` has the shape of ``user:password@host:``; a digest is not a host."""
    pin = "quay.io/prometheus/statsd-exporter:v0.30.0@sha256:" + "0123456789abcdef" * 4
    assert redact(pin) == pin
    assert redact("deploy:hunter2@git.example.com:org/repo.git") == "***@git.example.com:org/repo.git"
