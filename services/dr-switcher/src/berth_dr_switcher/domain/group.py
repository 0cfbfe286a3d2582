"""The DR group aggregate: probe results in, switching decisions and events out.

Pure: the caller passes ``now`` and a switch id, performs the switch the aggregate started
(DNS / ingress), then reports the outcome with ``complete``. Every change of state is a
``StateChanged`` event with its reason; everything during a drill carries its ``drill_id``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from berth_schema.dr.spec import GroupSpec, SiteRole, other

from .events import (
    DomainEvent,
    ProbeFailed,
    ProbeRecovered,
    StateChanged,
    Switched,
    SwitchFailed,
    SwitchStarted,
)
from .status import (
    SWITCH_LOG,
    Decision,
    Drill,
    GroupStatus,
    HistoryEntry,
    PendingSwitch,
    ProbeRound,
    State,
    SwitchKind,
    SwitchLogEntry,
    WitnessCheck,
)

DRILL_RETURN_RETRY = timedelta(seconds=10)


class SwitchRefused(Exception):
    """A requested switch cannot happen now; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class DrGroup:
    spec: GroupSpec
    status: GroupStatus
    events: list[DomainEvent] = field(default_factory=list)

    @classmethod
    def create(cls, spec: GroupSpec, *, now: datetime) -> DrGroup:
        group = cls(spec, GroupStatus(since=now, reason="group created"))
        group.events.append(
            StateChanged(
                from_state=None,
                to_state="active-primary",
                active="primary",
                reason="group created",
                drill_id=None,
                at=now,
            )
        )
        return group

    # --- queries ----------------------------------------------------------------------
    @property
    def drill_id(self) -> str | None:
        if self.status.pending is not None and self.status.pending.drill_id:
            return self.status.pending.drill_id
        return self.status.drill.id if self.status.drill else None

    def site_name(self, role: SiteRole) -> str:
        return self.spec.site(role).name

    def pending_is_stale(self, now: datetime) -> bool:
        """A switch that started long ago and never completed (its executor died)."""
        p = self.status.pending
        if p is None:
            return False
        budget = p.stale_after_seconds or self.spec.switch_timeout_seconds * 2
        return now - p.started_at > timedelta(seconds=budget)

    # --- plans and the witness --------------------------------------------------------
    def attach_plan(self, switch_id: str, plan_id: str, *, budget_seconds: float) -> None:
        """The pending switch is one step of a plan that may take ``budget_seconds``."""
        p = self.status.pending
        if p is not None and p.id == switch_id:
            p.plan_id, p.stale_after_seconds = plan_id, budget_seconds

    def stop_plan(self, plan_id: str) -> None:
        self.status.stopped_plan = plan_id

    def clear_plan(self, plan_id: str) -> None:
        if self.status.stopped_plan == plan_id:
            self.status.stopped_plan = None
            self.status.blocked = None

    def witnessed(self, check: WitnessCheck) -> None:
        """Record the witness's view of a site (call before ``observe`` of the same round)."""
        self.status.witness = check

    # --- probing ----------------------------------------------------------------------
    def observe(self, role: SiteRole, result: ProbeRound) -> None:
        """Fold one probe round of a site into its health, then act automatically."""
        now = result.at
        policy = self.spec.probe
        h = self.status.health(role)
        h.last_at, h.last_detail = now, result.detail
        h.history = [*h.history, HistoryEntry(at=now, ok=result.ok, detail=result.detail)][-policy.history :]
        if result.ok:
            h.successes += 1
            h.failures = 0
            if h.healthy is None:
                h.healthy = True
            elif h.healthy is False and h.successes >= policy.recovery_threshold:
                h.healthy = True
                self.events.append(
                    ProbeRecovered(
                        site=role,
                        site_name=self.site_name(role),
                        successes=h.successes,
                        threshold=policy.recovery_threshold,
                        drill_id=self.drill_id,
                    )
                )
        else:
            h.failures += 1
            h.successes = 0
            if h.healthy is not False and h.failures >= policy.failure_threshold:
                h.healthy = False
                self.events.append(
                    ProbeFailed(
                        site=role,
                        site_name=self.site_name(role),
                        failures=h.failures,
                        threshold=policy.failure_threshold,
                        detail=result.detail,
                        drill_id=self.drill_id,
                    )
                )
        self._settle(now, self._health_reason(role))
        self._automatic(now)

    def _health_reason(self, role: SiteRole) -> str:
        h = self.status.health(role)
        name = self.site_name(role)
        if h.failures:
            return f"{role} site {name}: {h.failures} consecutive failed probes ({h.last_detail})"
        return f"{role} site {name} answers its probes"

    # --- time -------------------------------------------------------------------------
    def tick(self, now: datetime) -> None:
        """Time-driven steps: end a drill whose time is up."""
        d = self.status.drill
        if d is None or d.ends_at is None or self.status.pending is not None or now < d.ends_at:
            return
        if self.status.primary.healthy is False:
            self.status.drill = None
            self._settle(
                now,
                f"drill {d.id} ended but {self.status.primary.describe(self.site_name('primary'))}; staying on standby",
                drill_id=d.id,
            )
            return
        self._start(
            kind="drill-return",
            to="primary",
            reason=f"drill {d.id} finished after {d.seconds:g}s",
            requested_by=d.requested_by,
            automatic=True,
            switch_id=f"{d.id}-return-{int(now.timestamp())}",
            now=now,
            drill_id=d.id,
        )

    # --- requests ---------------------------------------------------------------------
    def request(
        self,
        kind: SwitchKind,
        *,
        reason: str,
        requested_by: str,
        switch_id: str,
        now: datetime,
        to: SiteRole | None = None,
        force: bool = False,
        drill_seconds: float | None = None,
        plan_id: str | None = None,
    ) -> None:
        """A manual switchover, failback or drill (or a step of plan ``plan_id``). Refusals raise SwitchRefused after
        recording a refused ``SwitchFailed`` event (the caller stores it)."""
        target: SiteRole = to or (
            "primary" if kind == "failback" else "standby" if kind == "drill" else other(self.status.active)
        )
        try:
            self._check_request(kind, target, force=force, drill_seconds=drill_seconds, plan_id=plan_id)
        except SwitchRefused as exc:
            self._refuse(
                kind, target, exc.reason, requested_by=requested_by, switch_id=switch_id, now=now, automatic=False
            )
            raise
        drill_id: str | None = None
        if kind == "drill":
            assert drill_seconds is not None
            drill_id = switch_id
            self.status.drill = Drill(
                id=drill_id, reason=reason, requested_by=requested_by, seconds=drill_seconds, started_at=now
            )
        elif self.status.drill is not None and target == "primary":
            drill_id = self.status.drill.id  # a manual failback ends the drill early
        self._start(
            kind=kind,
            to=target,
            reason=reason,
            requested_by=requested_by,
            automatic=False,
            switch_id=switch_id,
            now=now,
            forced=force,
            drill_id=drill_id,
            drill_seconds=drill_seconds,
            plan_id=plan_id,
        )

    def _check_request(
        self, kind: SwitchKind, to: SiteRole, *, force: bool, drill_seconds: float | None, plan_id: str | None
    ) -> None:
        s = self.status
        if s.stopped_plan is not None and s.stopped_plan != plan_id:
            raise SwitchRefused(f"switch plan {s.stopped_plan} stopped at a failed step: resume or roll it back first")
        if s.pending is not None:
            raise SwitchRefused(f"switch {s.pending.id} ({s.pending.kind} to {s.pending.to_site}) is in progress")
        if kind == "failback" and to != "primary":
            raise SwitchRefused("a failback always goes to the primary site")
        if to == s.active:
            raise SwitchRefused(f"traffic is already on the {to} site {self.site_name(to)}")
        target = s.health(to)
        if kind == "drill":
            if s.drill is not None:
                raise SwitchRefused(f"drill {s.drill.id} is already running")
            if drill_seconds is None or drill_seconds <= 0:
                raise SwitchRefused("a drill needs a duration in seconds")
            if drill_seconds > self.spec.drill_max_seconds:
                raise SwitchRefused(
                    f"drill duration {drill_seconds:g}s exceeds drill_max_seconds {self.spec.drill_max_seconds:g}s"
                )
            if target.healthy is not True:
                raise SwitchRefused(f"a drill needs a healthy standby: {target.describe(self.site_name(to))}")
            return
        if target.healthy is not True and not force:
            hint = (
                "failback needs a healthy primary" if kind == "failback" else "refusing to switch to an unhealthy site"
            )
            raise SwitchRefused(f"{hint}: {target.describe(self.site_name(to))}; pass force to override")

    # --- completion -------------------------------------------------------------------
    def complete(self, switch_id: str, *, ok: bool, detail: str, now: datetime) -> bool:
        """The executor's outcome for the pending switch; False if it is not the pending one."""
        p = self.status.pending
        if p is None or p.id != switch_id:
            return False
        s = self.status
        s.pending = None
        entry = SwitchLogEntry(
            id=p.id,
            kind=p.kind,
            from_site=p.from_site,
            to_site=p.to_site,
            reason=p.reason,
            requested_by=p.requested_by,
            automatic=p.automatic,
            drill_id=p.drill_id,
            started_at=p.started_at,
            finished_at=now,
            result="switched" if ok else "failed",
            detail=detail,
            plan_id=p.plan_id,
            decision=p.decision,
        )
        s.switch_log = [*s.switch_log, entry][-SWITCH_LOG:]
        if ok:
            s.active = p.to_site
            s.blocked = None
            s.hold_down_until = now + timedelta(seconds=self.spec.hold_down_seconds)
            if p.kind == "drill" and s.drill is not None:
                s.drill.ends_at = now + timedelta(seconds=s.drill.seconds)
            elif p.to_site == "primary":
                s.drill = None
            self.events.append(
                Switched(
                    switch_id=p.id,
                    kind=p.kind,
                    from_site=p.from_site,
                    to_site=p.to_site,
                    reason=p.reason,
                    requested_by=p.requested_by,
                    automatic=p.automatic,
                    drill_id=p.drill_id,
                    started_at=p.started_at,
                    at=now,
                    detail=detail,
                )
            )
            why = f"{p.kind} to {p.to_site} site {self.site_name(p.to_site)} done: {p.reason}"
        else:
            if p.kind == "drill":
                s.drill = None
            elif p.kind == "drill-return" and s.drill is not None:
                s.drill.ends_at = now + DRILL_RETURN_RETRY
            self.events.append(
                SwitchFailed(
                    switch_id=p.id,
                    kind=p.kind,
                    from_site=p.from_site,
                    to_site=p.to_site,
                    reason=f"{p.kind} to {p.to_site} failed: {detail}",
                    requested_by=p.requested_by,
                    automatic=p.automatic,
                    refused=False,
                    drill_id=p.drill_id,
                    at=now,
                )
            )
            why = f"{p.kind} to {p.to_site} failed, traffic stays on {p.from_site}: {detail}"
        self._settle(now, why, drill_id=p.drill_id)
        if ok:
            self._automatic(now)
        return True

    # --- internals --------------------------------------------------------------------
    def _automatic(self, now: datetime) -> None:
        s = self.status
        if s.pending is not None or not self.spec.auto_failover:
            return
        active, peer = s.active, other(s.active)
        a, b = s.health(active), s.health(peer)
        if s.drill is not None:
            if a.healthy is False and b.healthy is True:
                self._start(
                    kind="drill-return",
                    to=peer,
                    reason=f"drill {s.drill.id} aborted: {a.describe(self.site_name(active))}",
                    requested_by="dr-switcher",
                    automatic=True,
                    switch_id=f"{s.drill.id}-abort",
                    now=now,
                    drill_id=s.drill.id,
                )
            return
        if a.healthy is False:
            decision: Decision | None = None
            if s.stopped_plan is not None:
                key = f"plan:{s.stopped_plan}"
                blocked = f"switch plan {s.stopped_plan} stopped at a failed step: resume or roll it back"
            elif s.hold_down_until is not None and now < s.hold_down_until:
                key = f"hold-down:{s.hold_down_until.isoformat()}"
                blocked = f"hold-down after the last switch lasts until {s.hold_down_until.isoformat()}"
            elif b.healthy is not True:
                key = f"unhealthy:{peer}"
                blocked = f"not failing over to an unhealthy site: {b.describe(self.site_name(peer))}"
            else:
                decision, hold = self._decide(active)
                if hold is None:
                    self._start(
                        kind="failover",
                        to=peer,
                        reason=f"automatic failover: {a.describe(self.site_name(active))}",
                        requested_by="dr-switcher",
                        automatic=True,
                        switch_id=f"failover-{int(now.timestamp() * 1000)}",
                        now=now,
                        decision=decision,
                    )
                    return
                if not hold:
                    return  # waiting for the witness's answer of this round
                key, blocked = f"witness:{active}:{hold[:40]}", hold
            if key != s.blocked:
                s.blocked = key
                self._refuse(
                    "failover",
                    peer,
                    blocked,
                    requested_by="dr-switcher",
                    switch_id=f"failover-held-{int(now.timestamp() * 1000)}" if decision else "",
                    now=now,
                    automatic=True,
                    decision=decision,
                )
            return
        s.blocked = None
        in_hold_down = s.hold_down_until is not None and now < s.hold_down_until
        if (
            active == "standby"
            and self.spec.auto_failback
            and b.healthy is True
            and b.successes >= self.spec.probe.recovery_threshold
            and not in_hold_down
        ):
            self._start(
                kind="failback",
                to="primary",
                reason=f"automatic failback: {b.describe(self.site_name('primary'))}",
                requested_by="dr-switcher",
                automatic=True,
                switch_id=f"failback-{int(now.timestamp() * 1000)}",
                now=now,
            )

    def _decide(self, role: SiteRole) -> tuple[Decision, str | None]:
        """Is ``role`` (marked down by Berth's probes) really down? (decision, None) to fail
        over; (decision, reason) to hold; (decision, "") while the witness has not answered
        for this round."""
        s, w = self.status, self.spec.witness
        h = s.health(role)
        name = self.site_name(role)
        berth = h.history[-self.spec.probe.failure_threshold :]
        seen = f"Berth: {h.failures} consecutive failed probe rounds ({h.last_detail})"
        if w is None:
            return Decision(verdict=f"site {name} is down; {seen}; no witness configured", site=role, berth=berth), None
        c = s.witness
        if c is None or c.site != role or (h.last_at is not None and c.at < h.last_at):
            return Decision(verdict="waiting for the witness", site=role, berth=berth), ""
        if c.reachable is True:
            verdict = (
                f"partition: Berth cannot reach site {name} but the witness {c.url} can ({c.detail}); "
                f"not failing over a healthy site"
            )
            return Decision(verdict=verdict, site=role, berth=berth, witness=c), verdict
        if c.reachable is None:
            if w.if_unreachable == "hold":
                verdict = f"the witness {c.url} did not answer ({c.detail}); holding (witness.if_unreachable=hold)"
                return Decision(verdict=verdict, site=role, berth=berth, witness=c), verdict
            verdict = (
                f"site {name} is down; {seen}; the witness did not answer ({c.detail}), failing over on Berth's view"
            )
            return Decision(verdict=verdict, site=role, berth=berth, witness=c), None
        verdict = f"site {name} is down: {seen} and the witness {c.url} agrees ({c.detail})"
        return Decision(verdict=verdict, site=role, berth=berth, witness=c), None

    def _start(
        self,
        *,
        kind: SwitchKind,
        to: SiteRole,
        reason: str,
        requested_by: str,
        automatic: bool,
        switch_id: str,
        now: datetime,
        forced: bool = False,
        drill_id: str | None = None,
        drill_seconds: float | None = None,
        plan_id: str | None = None,
        decision: Decision | None = None,
    ) -> None:
        p = PendingSwitch(
            id=switch_id,
            kind=kind,
            from_site=self.status.active,
            to_site=to,
            reason=reason,
            requested_by=requested_by,
            automatic=automatic,
            forced=forced,
            drill_id=drill_id,
            drill_seconds=drill_seconds,
            started_at=now,
            plan_id=plan_id,
            decision=decision,
        )
        self.status.pending = p
        self.events.append(
            SwitchStarted(
                switch_id=p.id,
                kind=kind,
                from_site=p.from_site,
                to_site=to,
                reason=reason,
                requested_by=requested_by,
                automatic=automatic,
                forced=forced,
                drill_id=drill_id,
                at=now,
            )
        )
        self._settle(now, f"{kind} to {to} site {self.site_name(to)} started: {reason}")

    def _refuse(
        self,
        kind: SwitchKind,
        to: SiteRole,
        reason: str,
        *,
        requested_by: str,
        switch_id: str,
        now: datetime,
        automatic: bool,
        decision: Decision | None = None,
    ) -> None:
        s = self.status
        if switch_id:
            entry = SwitchLogEntry(
                id=switch_id,
                kind=kind,
                from_site=s.active,
                to_site=to,
                reason=reason,
                requested_by=requested_by,
                automatic=automatic,
                drill_id=switch_id if kind == "drill" else None,
                started_at=now,
                finished_at=now,
                result="refused",
                detail=reason,
                decision=decision,
            )
            s.switch_log = [*s.switch_log, entry][-SWITCH_LOG:]
        self.events.append(
            SwitchFailed(
                switch_id=switch_id,
                kind=kind,
                from_site=s.active,
                to_site=to,
                reason=reason,
                requested_by=requested_by,
                automatic=automatic,
                refused=True,
                drill_id=switch_id if kind == "drill" and switch_id else self.drill_id,
                at=now,
            )
        )

    def _resting_state(self) -> State:
        s = self.status
        if s.pending is not None:
            if s.pending.drill_id is not None:
                return "drill"
            return "switching-over" if s.pending.to_site == "standby" else "failing-back"
        if s.drill is not None:
            return "drill"
        h = s.health(s.active)
        if h.failures or h.healthy is False:
            return "degraded"
        return "active-primary" if s.active == "primary" else "active-standby"

    def _settle(self, now: datetime, reason: str, *, drill_id: str | None = None) -> None:
        new = self._resting_state()
        s = self.status
        if new == s.state:
            return
        old = s.state
        s.state, s.reason, s.since = new, reason, now
        self.events.append(
            StateChanged(
                from_state=old,
                to_state=new,
                active=s.active,
                reason=reason,
                drill_id=drill_id or self.drill_id,
                at=now,
            )
        )
