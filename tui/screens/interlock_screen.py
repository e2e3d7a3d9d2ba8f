"""The base of every screen that does store I/O: one error path for every worker.

Workers post ``Worker.StateChanged`` to the node that started them and it does not bubble, so each screen
inherits this one handler: a worker that raised (a store outage, a refused write) opens the error modal and
the app stays alive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Final, cast

from textual import on, work
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from interlock.store.table import StoreError
from tui.formatting import rerun_command
from tui.messages import ActionDone, BudgetLoaded
from tui.screens.ack_modal import AckChoice, AckModal
from tui.screens.confirm_rerun_modal import ConfirmRerunModal
from tui.screens.dry_run_modal import DryRunModal

if TYPE_CHECKING:
    from interlock.api import Interlock, PipelineStatus
    from tui.app import InterlockApp


READ_GROUPS: Final = ("read ", "follow ")
"""Worker groups that only read: their store failures show on the screen's error line."""


class InterlockScreen(Screen[None]):
    """A screen of :class:`~tui.app.InterlockApp` (gives typed access to the app and the API)."""

    @property
    def iapp(self) -> InterlockApp:
        """The app, typed."""
        return cast("InterlockApp", self.app)

    @property
    def api(self) -> Interlock:
        """The Interlock facade every worker reads and writes through."""
        return self.iapp.api

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is not WorkerState.ERROR or worker.error is None:
            return
        group = worker.group or worker.name
        if group.startswith(READ_GROUPS) and isinstance(worker.error, StoreError):
            # A read that fails (an outage) is a state of the screen, not a dialog: a timer that keeps
            # failing must not pop one up every few seconds. Writes still open the error modal.
            self.read_failed(worker.error)
            return
        self.iapp.show_error(f"{group} failed", worker.error)

    def read_failed(self, error: BaseException) -> None:
        """Show a failed read on the screen's error line (``#read-error``), with the retry key."""
        self.iapp.last_read_error = error
        line = self.query("#read-error")
        if not line:
            self.iapp.show_error("reading the store failed", error)
            return
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        line.first(Static).update(f"✗ store unreachable: {first} · R retries now")
        line.first().display = True

    def read_ok(self) -> None:
        """A read succeeded: hide the error line."""
        self.iapp.ever_read = True
        for line in self.query("#read-error"):
            line.display = False


WRITE_ACTIONS: Final = frozenset({"rerun", "ack", "dry_run"})


class PipelineActionsScreen(InterlockScreen):
    """A screen with a current pipeline, and the operator actions on it (rerun, ack, dry-run, copy).

    Writes go through the API's Operator in workers. In read-only mode the write keys are hidden from
    the footer and refused with a notice (the second binding of each key exists only for that).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "rerun", "Rerun", tooltip="Ask the controller to rerun the period"),
        Binding("a", "ack", "Ack", tooltip="Acknowledge the run's SLA alerts"),
        Binding("d", "dry_run", "Dry-run", tooltip="Switch dry run on or off"),
        Binding("r", "refuse('rerun')", show=False),
        Binding("a", "refuse('ack')", show=False),
        Binding("d", "refuse('dry-run')", show=False),
        Binding(
            "c", "copy_command", "Copy cmd", show=False, tooltip="Copy the equivalent CLI command"
        ),
    ]

    def current_status(self) -> PipelineStatus | None:
        """The pipeline the actions apply to (``None``: nothing selected yet)."""
        raise NotImplementedError

    def reload(self) -> None:
        """Read the screen's data again (after an action)."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITE_ACTIONS:
            return not self.iapp.read_only
        if action == "refuse":
            return self.iapp.read_only
        return True

    def action_refuse(self, what: str) -> None:
        self.notify(f"read-only mode: {what} is not available", severity="warning")

    def _target(self) -> PipelineStatus | None:
        status = self.current_status()
        if status is None or status.period is None:
            self.notify("no pipeline period selected", severity="warning")
            return None
        return status

    # rerun: budget (worker) → modal → request (worker) → ActionDone
    def action_rerun(self) -> None:
        status = self._target()
        if status is not None:
            self._load_budget(status)

    @work(thread=True, exclusive=True, exit_on_error=False, group="read rerun budget")
    def _load_budget(self, status: PipelineStatus) -> None:
        outlook = self.api.rerun_outlook(status.pipeline_id, status.period)
        self.post_message(BudgetLoaded(status, outlook.budget, outlook))

    @on(BudgetLoaded)
    def _ask_rerun(self, message: BudgetLoaded) -> None:
        status = message.status
        period = status.period or ""

        def done(reason: str | None) -> None:
            if reason:
                self._rerun(status.pipeline_id, period, reason)

        self.app.push_screen(
            ConfirmRerunModal(status.pipeline_id, period, message.budget, message.outlook), done
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="rerun")
    def _rerun(self, pid: str, period: str, reason: str) -> None:
        since = self.api.now()
        result = self.api.rerun(pid, period, reason)
        if result.applied and result.period is not None:
            self.app.call_from_thread(self.iapp.watch_rerun, pid, result.period, since)
        self.post_message(ActionDone(result))

    # ack
    def action_ack(self) -> None:
        status = self._target()
        if status is None:
            return
        pid, period = status.pipeline_id, status.period or ""

        def done(choice: AckChoice | None) -> None:
            if choice is not None:
                self._ack(pid, period, choice)

        self.app.push_screen(AckModal(pid, period, status.sla.text), done)

    @work(thread=True, exclusive=True, exit_on_error=False, group="ack")
    def _ack(self, pid: str, period: str, choice: AckChoice) -> None:
        self.post_message(
            ActionDone(self.api.ack(pid, period, reason=choice.reason, until=choice.until))
        )

    # dry-run
    def action_dry_run(self) -> None:
        status = self.current_status()
        if status is None:
            self.notify("no pipeline selected", severity="warning")
            return
        pid, on_ = status.pipeline_id, not status.dry_run

        def done(reason: str | None) -> None:
            if reason:
                self._dry_run(pid, on_, reason)

        self.app.push_screen(DryRunModal(pid, on_), done)

    @work(thread=True, exclusive=True, exit_on_error=False, group="dry-run switch")
    def _dry_run(self, pid: str, on_: bool, reason: str) -> None:
        self.post_message(ActionDone(self.api.dry_run(pid, on_, reason=reason)))

    @on(ActionDone)
    def _action_done(self, message: ActionDone) -> None:
        result = message.result
        self.notify(result.message, title=f"{result.action} · {result.pipeline_id}")
        self.reload()

    def action_copy_command(self) -> None:
        status = self.current_status()
        if status is None:
            return
        command = rerun_command(status.pipeline_id, status.period, self.api.store.url)
        self.app.copy_to_clipboard(command)
        self.notify(command, title="copied")
