"""The day-two checks of the ``local`` stack, in the order they share one cluster and one deploy: the
deploy from an earlier commit that the working tree then upgrades, the checks after the deploy (no
changes, drift, DAG edits, a deploy while tasks run, the backup before a migration and its restore,
the deploy history and a rollback, a scheduler's loss, the Fernet rotation, the alerts firing and the
dashboards answering on a Prometheus the operator runs, the DAGs moved to git with their packages in
an image), and the teardown (a protected stack refuses, destroy leaves nothing, the stack comes back,
a copy of its stack file deploys through the deploy workflow's own steps)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tooling.cluster.alerts_check import check_alerts, check_dashboards
from tooling.cluster.backup_check import check_backup
from tooling.cluster.checks import Deployed
from tooling.cluster.deploy_history import HistoryCommand, check_history, check_rollback
from tooling.cluster.drift import check_drift
from tooling.cluster.fernet_rotation import check_fernet_rotation
from tooling.cluster.git_bundle import deploy_from_git
from tooling.cluster.mid_run import WAITING_DAG, check_deploy_mid_run, check_scheduler_loss
from tooling.cluster.node import Node
from tooling.cluster.probe_edits import PROBE_DAG
from tooling.cluster.prometheus import ClusterPrometheus
from tooling.cluster.restore_check import check_restore
from tooling.cluster.timeline import Timeline
from tooling.cluster.upgrade import PROBE_ID as UPGRADE_PROBE
from tooling.cluster.upgrade import UpgradeProbe
from tooling.cluster.workflow_deploy import COPIED_STACK, deploy_copied_stack
from tooling.cluster.workspace import Workspace
from tooling.rehearsal.api import Api

__all__ = ["DayTwo"]

COPIED_NAMESPACE = "airflow-staging"


@dataclass
class DayTwo:
    """The checks, each one line of the timeline; what one learns for another is kept here."""

    timeline: Timeline
    node: Node
    workspace: Workspace
    deployed: Deployed
    prometheus: ClusterPrometheus | None = None  # None where the stack's monitoring is off
    upgrade: UpgradeProbe | None = None

    @property
    def history_command(self) -> HistoryCommand:
        """``python -m tooling.history`` on this stack, as a user runs it."""
        return HistoryCommand(self.deployed.tools_python, self.workspace)

    @property
    def api(self) -> Api:
        assert self.deployed.api is not None, "the login check runs first"
        return self.deployed.api

    def up_from(self, commit: str, reach_api: Callable[[], str], adopt: Callable[[], None]) -> None:
        """The stack as ``commit`` deploys it, something stored and tasks running in it, then the
        working tree's program over it and what an operator sets to adopt its new config (``adopt``):
        the next ``up`` is the upgrade."""
        deployed, workspace = self.deployed, self.workspace
        workspace.run("up", "--yes", "--skip-preview", check=True)
        deployed.namespace = workspace.outputs()["namespace"]
        deployed.pods_ready()
        deployed.login(reach_api())  # forwarded once the namespace exists
        self.upgrade = UpgradeProbe.start(self.api, deployed.kubectl_json, deployed.namespace)
        workspace.upgrade_program()
        adopt()
        changed = workspace.run("preview", "--json").changes()
        kinds = sorted({kind.split(":")[-1] for kind, _ in changed})
        self.timeline.facts.append(
            f"the upgrade from {commit[:7]} changes {len(changed)} resources: {', '.join(kinds) or 'none'}"
        )

    def upgraded(self) -> None:
        """After the upgrade's ``up``: see ``UpgradeProbe.judge``."""
        assert self.upgrade is not None
        compared = self.upgrade.judge(self.deployed.kubectl_json, self.deployed.namespace)
        self.timeline.facts.append(
            f"the upgrade kept {compared} objects (uid; each Secret key's value), the stored connection and "
            "variable, and the tasks that ran across it; derived configuration changed: "
            + ("; ".join(self.upgrade.notes) or "none")
        )

    def after_deploy(self) -> None:
        deployed, workspace, timeline = self.deployed, self.workspace, self.timeline
        timeline.check("second-preview-no-changes", deployed.no_changes)
        timeline.check(
            "drift",
            lambda: check_drift(workspace, deployed.kubectl_json, self.node.kubectl, deployed.namespace),
        )
        timeline.check("dag-edit-changes-only-the-image", self._dag_edit)
        timeline.check("deploy-mid-run", self._mid_run)
        timeline.check("backup", self._backup)
        timeline.check("restore", self._restore)
        timeline.check("history", self._history)
        timeline.check("rollback", self._rollback)
        timeline.check("scheduler-loss", self._scheduler_loss)
        timeline.check("fernet-rotation", self._fernet_rotation)
        if self.prometheus is not None:
            timeline.check("alerts", self._alerts)
            timeline.check("dashboards", self._dashboards)
        # Last: it moves the stack's DAGs to git for good (the teardown's checks run on it so).
        timeline.check("git-bundle-packages", self._git_bundle_packages)

    def teardown(self) -> None:
        self.timeline.check("protected-stack-refuses-destroy", self.deployed.protected_refuses)
        self.timeline.check("destroy-leaves-nothing", self.deployed.destroy)
        self.timeline.check("recreate-after-destroy", self._recreate)
        self.timeline.check("copied-stack-through-the-deploy-job", self._copied_stack)

    def _dag_edit(self) -> None:
        seconds = self.deployed.dag_edit()
        self.timeline.facts.append(f"from the DAG edit's `up` to the new version parsed: {seconds:.0f} s")

    def _mid_run(self) -> None:
        result = check_deploy_mid_run(
            self.workspace, self.api, self.deployed.kubectl_json, self.deployed.namespace
        )
        self.timeline.facts.append(
            "a DAG and a config change deployed while a Celery and a pod task ran: "
            f"{result.replaced_pods} Airflow pods replaced, both tasks succeeded at their first try, "
            f"the new DAG version live {result.seconds_until_live:.0f} s after `up` began"
        )

    def _backup(self) -> None:
        done = check_backup(
            self.workspace,
            self.node.kubectl,
            self.deployed.namespace,
            UPGRADE_PROBE,
        )
        self.timeline.facts.append(f"backup before migration: {done}")

    def _restore(self) -> None:
        assert self.upgrade is not None  # local is deployed from an earlier commit first
        earlier = (WAITING_DAG, self.upgrade.waiting.run)
        self.timeline.facts.append(f"restore: {check_restore(self.history_command, self.deployed, earlier)}")

    def _history(self) -> None:
        listed = check_history(self.history_command, self.deployed.kubectl_json, self.deployed.namespace)
        self.timeline.facts.append(f"deploy history: {listed}")

    def _rollback(self) -> None:
        done = check_rollback(
            self.history_command, self.api, self.deployed.kubectl_json, self.deployed.namespace
        )
        self.timeline.facts.append(f"rollback: {done}")

    def _scheduler_loss(self) -> None:
        deleted = check_scheduler_loss(
            self.api, self.deployed.kubectl_json, self.node.kubectl, self.deployed.namespace
        )
        self.timeline.facts.append(f"scheduler pods deleted mid-run, their tasks kept: {deleted}")

    def _fernet_rotation(self) -> None:
        done = check_fernet_rotation(
            self.workspace, self.api, self.deployed.kubectl_json, self.deployed.namespace
        )
        self.timeline.facts.append(f"Fernet rotation: {done}")

    def _alerts(self) -> None:
        assert self.prometheus is not None
        done = check_alerts(
            self.workspace,
            self.prometheus.api(),
            self.api,
            self.deployed.kubectl_json,
            self.node.kubectl,
            self.deployed.namespace,
        )
        self.timeline.facts.append(f"alerts: {done}")

    def _dashboards(self) -> None:
        assert self.prometheus is not None
        done = check_dashboards(
            self.prometheus.api(),
            self.deployed.kubectl_json,
            self.deployed.namespace,
            self.prometheus.monitoring,
            lambda: self.deployed.run_dag(PROBE_DAG),
        )
        self.timeline.facts.append(f"dashboards on live series: {done}")

    def _copied_stack(self) -> None:
        """See ``tooling/cluster/workflow_deploy.py``: a stack added by copying a file deploys through
        the deploy job's own steps; every pod Ready, then destroyed, leaving nothing."""
        matrix, ran = deploy_copied_stack(self.workspace, COPIED_NAMESPACE)
        copied = Deployed(self.node, self.workspace, COPIED_NAMESPACE, self.deployed.tools_python)
        copied.pods_ready()
        copied.destroy(COPIED_STACK)
        self.timeline.facts.append(
            f"{COPIED_STACK}, copied from {self.workspace.stack}'s file: in the deploy matrix ({matrix}); "
            f"the deploy job's steps run: {'; '.join(ran)}; every pod Ready, then destroyed"
        )

    def _git_bundle_packages(self) -> None:
        self.timeline.facts.append(deploy_from_git(self.node, self.workspace, self.deployed))

    def _recreate(self) -> None:
        """The same stack again after its destroy: nothing a destroy leaves behind (a volume, a release
        record, a keeper) stands in the way of a new ``up``."""
        self.workspace.run("up", "--yes", "--skip-preview", check=True)
        self.deployed.pods_ready()
        self.deployed.destroy()
