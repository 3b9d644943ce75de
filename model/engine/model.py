"""The Mesa model: the world, its step order and its dynamics, vectorised over replicates.

Step order (docs/model.md has the equations):
1. Events due this step are resolved (scheduled ones, and conditional ones whose condition
   holds on the state at the start of the step).
2. Every actor decides simultaneously on that same start-of-step state, in declaration
   order (the order cannot matter: no decision sees another's).
3. The chosen actions take effect: world deltas and settings, relations, grievances,
   stances, escalation impulses, interceptions.
4. Continuous dynamics advance by ``step_days``: decays, oil price, Western attention,
   stocks, Iranian strength and nuclear progress, Russia-Iran cohesion, the war state.
5. Derived variables (Russia's Gulf stake, its support tier) are updated and recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mesa
import numpy as np

from model import expr
from model.engine import rng
from model.engine.agents import ActorAgent, Decision
from model.engine.config import Config
from model.engine.tables import compile_tables

LN2 = float(np.log(2.0))
FLAGS = ("state_strike", "us_strike", "russian_arms", "ceasefire")


def _decay(half_life_days: Any, dt: float) -> Any:
    return np.exp(-LN2 * dt / np.asarray(half_life_days, dtype=float))


class EntenteModel(mesa.Model):
    """A batch of replicates of one configuration; a single replicate is a batch of one.

    Args:
        config: the resolved configuration (catalog after overrides, events, uncertainties).
        replicates: replicate indices to simulate, or a count (indices 0..n-1).
        detail: keep full decision records (utilities, feasibility, constraint hits) per step;
            meant for a few replicates (explain), not for ensembles.
    """

    def __init__(
        self, config: Config, replicates: Sequence[int] | np.ndarray | int = 1, *, detail: bool = False
    ) -> None:
        super().__init__(rng=int(config.seed) % 2**32)
        self.config = config
        reps = np.arange(replicates) if isinstance(replicates, int) else np.asarray(replicates, dtype=np.int64)
        self.replicates = reps
        self.keys = rng.replicate_keys(config.seed, reps)
        self.tables = compile_tables(config, self.keys, reps)
        t = self.tables
        self.R, self.V, self.A, self.S = len(reps), len(t.variables), len(t.actors), len(t.issues)
        self.vi = t.var_index
        self.detail = detail
        self.step_count = 0
        p = t.params
        self.dt = float(p.world("step_days"))

        R, A, S = self.R, self.A, self.S
        self.x = np.zeros((R, self.V))
        for v, i in self.vi.items():
            self.x[:, i] = p.get(f"initial.{v}")
        self.rel = np.zeros((R, A, A))
        self.rel0 = np.zeros((R, A, A))
        ai = t.actor_index
        for pair in config.spec["relations"]:
            a, b = pair.split("-")
            val = p.get(f"relations.{pair}")
            self.rel[:, ai[a], ai[b]] = val
            self.rel[:, ai[b], ai[a]] = val
        self.ru, self.ir = ai["russia"], ai["iran"]
        self.rel[:, self.ru, self.ir] = self.rel[:, self.ir, self.ru] = self.x[:, self.vi["cohesion"]]
        self.rel0[:] = self.rel
        self.stance = np.zeros((R, A, S))
        for a in config.spec["actors"]:
            for s, issue in enumerate(t.issues):
                self.stance[:, ai[a], s] = p.get(f"actors.{a}.stances.{issue}")
        self.stance0 = self.stance.copy()
        # griev[r, target, holder]: the grievance `holder` bears against `target`; stored this way so
        # that the update after an action (every holder against the actor) writes contiguous memory
        self.griev = np.zeros((R, A, A))
        for a, actor in config.spec["actors"].items():
            for b in actor.get("initial_grievance", {}):
                self.griev[:, ai[b], ai[a]] = p.get(f"actors.{a}.initial_grievance.{b}")

        self.actors: list[ActorAgent] = [ActorAgent(self, tab) for tab in t.actor_tables]
        self.n_options = sum(len(tab.options) for tab in t.actor_tables)
        window = max(1, int(round(float(np.max(p.world("tier_window_days"))) / self.dt)))
        self.tier_hist = np.zeros((R, window), dtype=np.int64)
        self.tier_hist[:, -1] = self.x[:, self.vi["russia.support_tier"]].astype(np.int64)
        self._events = self._compile_events(config)
        self._update_derived()
        self.x[:, self.vi["max_rung"]] = 0
        self.x[:, self.vi["goldstein"]] = 0

        T = config.steps
        self.series = np.zeros((T + 1, R, self.V))
        self.series[0] = self.x
        self.choices = np.zeros((T, R, A), dtype=np.int16)
        self.bound = np.zeros((T, R, A), dtype=np.int64)
        self.forced = np.zeros((T, R, A), dtype=bool)
        self.records: list[list[Decision]] = []
        self.flags = {name: np.zeros((T, R), dtype=bool) for name in FLAGS}
        usa = self.actors[ai["usa"]].table if "usa" in ai else None
        self._us_direct = usa.direct if usa is not None else None

    # ------------------------------------------------------------------ helpers
    def lookup(self, name: str) -> Any:
        """Value of a world-variable name used in expressions, per replicate."""
        if name in self.vi:
            return self.x[:, self.vi[name]]
        if name == "step":
            return float(self.step_count + 1)
        if name == "week":
            return float(self.step_count * self.dt / 7.0)
        if name == "day":
            return float(self.step_count * self.dt)
        kind, a, b = name.split(".")
        ai = self.tables.actor_index
        if kind == "relation":
            return self.rel[:, ai[a], ai[b]]
        return self.stance[:, ai[a], self.tables.issues.index(b)]

    def _compile_events(self, config: Config) -> list[dict[str, Any]]:
        out = []
        for ev in config.events:
            tab = self.tables.actor_tables[self.tables.actor_index[ev.actor]]
            opt = tab.options.index((ev.action, ev.target))
            cond = expr.parse(ev.when, self.tables.names) if ev.when else None
            out.append(
                {"event": ev, "actor": tab.index, "option": opt, "cond": cond, "fired": np.zeros(self.R, dtype=bool)}
            )
        return out

    def _forced(self, step: int) -> np.ndarray:
        forced = np.full((self.R, self.A), -1, dtype=np.int64)
        for e in self._events:
            ev = e["event"]
            if ev.step is not None:
                fire = np.full(self.R, ev.step == step)
            else:
                fire = np.broadcast_to(expr.truth(expr.evaluate(e["cond"], self.lookup)), (self.R,)).copy()
                if ev.once:
                    fire &= ~e["fired"]
            e["fired"] |= fire
            col = forced[:, e["actor"]]
            forced[:, e["actor"]] = np.where(fire & (col < 0), e["option"], col)
        return forced

    # ------------------------------------------------------------------ step
    def step(self) -> None:
        """Advance every replicate by one step (step order in the module docstring)."""
        step = self.step_count + 1
        forced = self._forced(step)
        noise = rng.gumbel(self.keys, step, "choice", self.n_options)
        tremble_u = rng.uniforms(self.keys, step, "tremble", self.A)
        pick_u = rng.uniforms(self.keys, step, "tremble_pick", self.A)
        decisions = []
        for agent, off in zip(self.actors, self.tables.option_offset, strict=True):
            K = len(agent.table.options)
            i = agent.table.index
            decisions.append(
                agent.decide(step, noise[:, off : off + K], forced[:, i], tremble_u[:, i], pick_u[:, i], self.detail)
            )
        self._apply(decisions)
        self._dynamics(decisions)
        self._update_derived(decisions)
        np.clip(self.x, self.tables.lower, self.tables.upper, out=self.x)
        t = self.step_count
        self.series[t + 1] = self.x
        for i, d in enumerate(decisions):
            self.choices[t, :, i] = d.choice
            self.bound[t, :, i] = d.bound
            self.forced[t, :, i] = d.forced
        self.flags["state_strike"][t] = self._strikes_now > 0
        if self._us_direct is not None:
            self.flags["us_strike"][t] = self._us_direct[decisions[self.tables.actor_index["usa"]].choice]
        self.flags["russian_arms"][t] = self.actors[self.ru].table.tier[decisions[self.ru].choice] >= 4
        self.flags["ceasefire"][t] = self.x[:, self.vi["war_state"]] == 3
        if self.detail:
            self.records.append(decisions)
        self.step_count += 1

    def _apply(self, decisions: list[Decision]) -> None:
        x, vi, R = self.x, self.vi, self.R
        rows = np.arange(R)
        p = self.tables.params
        self._strikes_now = np.zeros(R)
        self._launches = np.zeros(R)
        self._ceasefire = np.zeros(R, dtype=bool)
        esc = np.zeros(R)
        dx = np.zeros_like(x)
        issues = self.tables.issues
        for agent, d in zip(self.actors, decisions, strict=True):
            tab, a, c = agent.table, agent.table.index, d.choice
            dx += tab.world_delta[c]
            ed = tab.esc_delta
            esc += ed[rows, c] if ed.ndim == 2 else ed[c]
            self._strikes_now += tab.direct[c]
            self._launches += tab.launches[c]
            dr = tab.rel_delta[c]
            self.rel[:, a, :] += dr
            self.rel[:, :, a] += dr
            tgt = tab.target[c]
            has_t = tgt >= 0
            tsafe = np.where(has_t, tgt, 0)
            # grievances: harm to those I like, help to those I dislike, stances violated
            sev = tab.severity[c] * has_t
            act = np.flatnonzero(sev)
            if len(act):
                dense = len(act) > R // 4  # most replicates acted: whole-slice arithmetic beats gathers
                idx = rows if dense else act
                ca, ta = c[idx], tsafe[idx]
                aff = self.rel[idx, :, ta]
                aff[np.arange(len(idx)), ta] = 1.0
                g = np.where(tab.harm[ca][:, None], np.maximum(aff, 0.0), 0.0)
                g += np.where(tab.help[ca][:, None], np.maximum(-aff, 0.0), 0.0)
                for s in range(len(issues)):
                    viol = np.maximum(-tab.align[ca, s], 0.0)
                    if issues[s] != "support_iran" and np.any(viol):
                        g += viol[:, None] * np.maximum(self.stance[idx, :, s], 0.0)
                g *= sev[idx][:, None]
                g[:, a] = 0.0
                if dense:
                    self.griev[:, a, :] += g
                else:
                    self.griev[act, a, :] += g
            resp = tab.resp[c] * tab.harm[c] * has_t
            rr = np.flatnonzero(resp)
            if len(rr):
                weight = np.minimum(resp[rr], 1.0) * np.minimum(tab.rung[c[rr]] / 9.0, 1.0)
                discharge = p.world("grievance_discharge")
                discharge = discharge[rr] if isinstance(discharge, np.ndarray) else discharge
                self.griev[rr, tsafe[rr], a] *= 1.0 - discharge * weight
            if tab.has_stance_effects:
                srows = np.flatnonzero(tab.stance_self_any[c])
                if len(srows):
                    self.stance[srows, a, :] += tab.stance_self[c[srows]]
                srows = np.flatnonzero(tab.stance_target_any[c] & has_t)
                if len(srows):
                    self.stance[srows, tsafe[srows], :] += tab.stance_target[c[srows]]
            if tab.has_sets:
                srows = np.flatnonzero(tab.set_any[c])
                if len(srows):
                    sm = tab.set_mask[c[srows]]
                    x[srows] = np.where(sm, tab.set_value[c[srows]], x[srows])
            self._ceasefire |= tab.ceasefire[c]
        # cohesion effects by third parties act on the Russia-Iran relation
        dcoh = dx[:, vi["cohesion"]]
        self.rel[:, self.ru, self.ir] += dcoh
        self.rel[:, self.ir, self.ru] += dcoh
        dx[:, vi["cohesion"]] = 0.0
        x += dx
        # interception of missiles fired at Israel
        need = self._launches * p.world("interceptors_per_missile")
        stock = x[:, vi["israel.interceptors"]]
        used = np.minimum(stock, need)
        x[:, vi["israel.interceptors"]] = stock - used
        shortfall = np.where(need > 0, 1.0 - used / np.where(need > 0, need, 1.0), 0.0)
        esc += p.world("interceptor_shortfall_gain") * shortfall
        self._esc_impulse = esc
        rung = np.zeros(R, dtype=np.int64)
        gold = np.zeros(R)
        for agent, d in zip(self.actors, decisions, strict=True):
            rung = np.maximum(rung, agent.table.rung[d.choice])
            gold += agent.table.goldstein[d.choice]
        x[:, vi["max_rung"]] = rung
        x[:, vi["goldstein"]] = gold

    def _dynamics(self, decisions: list[Decision]) -> None:
        x, vi, dt, step = self.x, self.vi, self.dt, self.step_count + 1
        p = self.tables.params
        w = p.world

        def col(name: str) -> np.ndarray:
            return x[:, vi[name]]

        # escalation: decay plus this step's impulses
        x[:, vi["escalation"]] = col("escalation") * _decay(w("escalation_half_life"), dt) + self._esc_impulse
        # war state
        sr = np.maximum(col("strikes_recent"), 0.0) * _decay(w("strikes_half_life"), dt) + self._strikes_now
        x[:, vi["strikes_recent"]] = sr
        ws = col("war_state").copy()
        struck = self._strikes_now > 0
        ws = np.where(struck & (ws != 2), np.where(sr >= w("sustained_threshold"), 2.0, 1.0), ws)
        ws = np.where(struck & (ws == 2), 2.0, ws)
        calm = ~struck & ((ws == 1) | (ws == 2)) & ((sr < w("ceasefire_threshold")) | self._ceasefire)
        x[:, vi["war_state"]] = np.where(calm, 3.0, ws)
        # decaying event memories
        for name, hl in (
            ("nuclear_strike_recent", "escalation_half_life"),
            ("energy_strike_recent", "escalation_half_life"),
        ):
            x[:, vi[name]] = col(name) * _decay(w(hl), dt)
        for name in ("ukraine_deal", "deal_offer"):
            x[:, vi[name]] = col(name) * _decay(w("offer_half_life"), dt)
        for name in ("us.restraint_on_israel", "iran.restraint"):
            x[:, vi[name]] = col(name) * _decay(w("restraint_half_life"), dt)
        # oil
        eq = (
            w("brent_base")
            + w("brent_escalation_premium") * col("escalation")
            + w("brent_shipping_premium") * col("shipping_disruption")
            + w("brent_energy_premium") * col("energy_strike_recent")
            - w("brent_saudi_discount") * col("saudi.extra_output")
            - w("brent_iran_exports_discount") * (col("iran.exports") - 1.5)
        )
        P = col("brent")
        theta = 1.0 - np.exp(-w("brent_reversion") * dt)
        x[:, vi["brent"]] = (
            P + theta * (eq - P) + w("brent_volatility") * np.sqrt(dt) * P * rng.normal(self.keys, step, "brent")
        )
        # Western attention on Ukraine (a Ukraine freeze lowers its baseline)
        base = w("attention_baseline") * (1.0 - w("ukraine_deal_attention_cut") * col("ukraine_deal"))
        att = col("west_attention")
        att = att + dt * (
            w("attention_reversion") * (base - att)
            - w("attention_escalation_pull") * col("escalation") / 10.0
            - w("attention_us_pull") * col("us.direct_involvement")
        )
        x[:, vi["west_attention"]] = att
        # Ukraine theatre: Russian air defence spare = production - front demand
        demand = w("russia_ad_demand") * col("west_attention") / w("attention_baseline")
        x[:, vi["russia.ad_spare"]] = col("russia.ad_spare") + dt * (w("russia_ad_production") - demand)
        x[:, vi["russia.su35_spare"]] = col("russia.su35_spare") + dt * w("russia_su35_production")
        # Iran's stocks, strength, stability, nuclear progress
        x[:, vi["iran.missiles"]] = col("iran.missiles") + dt * (
            w("iran_missile_production") - w("iran_supply_to_russia")
        )
        x[:, vi["israel.interceptors"]] = col("israel.interceptors") + dt * w("israel_interceptor_production")
        rec = 1.0 - np.exp(-w("iran_recovery") * dt)
        for name in ("iran.strength", "iran.stability"):
            x[:, vi[name]] = col(name) + rec * (p.get(f"initial.{name}") - col(name))
        deal = col("nuclear_deal")
        x[:, vi["iran.nuclear"]] = col("iran.nuclear") + dt * (
            w("iran_nuclear_rate") * (1.0 - deal) - w("iran_nuclear_rollback") * deal
        )
        x[:, vi["iran.exports"]] = col("iran.exports") + (1.0 - np.exp(-0.02 * dt)) * (1.5 + deal - col("iran.exports"))
        x[:, vi["shipping_disruption"]] = col("shipping_disruption") + (1.0 - np.exp(-w("shipping_reversion") * dt)) * (
            w("shipping_baseline") - col("shipping_disruption")
        )
        x[:, vi["saudi.extra_output"]] = col("saudi.extra_output") * np.exp(-w("saudi_output_reversion") * dt)
        x[:, vi["proxy_strength"]] = col("proxy_strength") + (1.0 - np.exp(-w("proxy_recovery") * dt)) * (
            p.get("initial.proxy_strength") - col("proxy_strength")
        )
        # Russia-Iran cohesion: rises under shared pressure, decays without it, capped, and
        # falls when Russian support lags what Iran asks for
        ru, ir = self.ru, self.ir
        coh = self.rel[:, ru, ir]
        pressure_iran = np.clip(col("escalation") / 10.0 + 0.5 * col("nuclear_strike_recent"), 0.0, 1.0)
        pressure_russia = np.clip(col("west_attention") * (1.0 - col("ukraine_deal")), 0.0, 1.0)
        threat = np.minimum(pressure_iran, pressure_russia)
        ask = w("request_base_tier") + w("request_per_escalation") * col("escalation")
        lag = np.maximum(ask - self.tier_hist.max(axis=1), 0.0)
        coh = coh + dt * (
            w("cohesion_threat_gain") * threat
            - w("cohesion_decay") * (coh - w("cohesion_floor"))
            - w("cohesion_disappointment") * lag
        )
        coh = np.clip(coh, 0.0, w("cohesion_ceiling"))
        self.rel[:, ru, ir] = self.rel[:, ir, ru] = coh
        # relations, stances and grievances drift back
        self.rel += (1.0 - np.exp(-w("relation_reversion") * dt)) * (self.rel0 - self.rel)
        self.rel[:, ru, ir] = self.rel[:, ir, ru] = coh
        np.clip(self.rel, -1.0, 1.0, out=self.rel)
        self.stance += (1.0 - np.exp(-w("stance_reversion") * dt)) * (self.stance0 - self.stance)
        np.clip(self.stance, -1.0, 1.0, out=self.stance)
        self.griev *= _decay(w("grievance_half_life"), dt)

    def _update_derived(self, decisions: list[Decision] | None = None) -> None:
        x, vi = self.x, self.vi
        p = self.tables.params
        ai = self.tables.actor_index
        ws = p.get("actors.russia.interests.ties_saudi.weight")
        wu = p.get("actors.russia.interests.ties_uae.weight")
        stake = (
            ws * np.maximum(self.rel[:, self.ru, ai["saudi"]], 0) + wu * np.maximum(self.rel[:, self.ru, ai["uae"]], 0)
        ) / 4.0
        x[:, vi["russia.gulf_stake"]] = stake
        x[:, vi["cohesion"]] = self.rel[:, self.ru, self.ir]
        if decisions is not None:
            ru_tab = self.actors[self.ru].table
            self.tier_hist = np.roll(self.tier_hist, -1, axis=1)
            self.tier_hist[:, -1] = ru_tab.tier[decisions[self.ru].choice]
        x[:, vi["russia.support_tier"]] = self.tier_hist.max(axis=1)

    def run(self, steps: int | None = None) -> None:
        """Run the configured horizon (or ``steps`` more steps)."""
        for _ in range(self.config.steps if steps is None else steps):
            self.step()
