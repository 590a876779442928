/**
 * Which agents are alive: every message is a sign of life; the last will or the
 * heartbeat timeout makes one offline (the rule is ./rules/site-unreachable.ts).
 */
export interface AgentLiveness {
  siteId: string;
  agentId: string;
  online: boolean;
  lastSeen: number;
  /** Why it is offline: the will's reason ("connection-lost", "shutdown"); empty while online. */
  reason: string;
  /** Set when it went offline by the heartbeat timeout: the seconds it was silent. */
  silentS?: number;
}

export class AgentTable {
  private readonly agents = new Map<string, AgentLiveness>();
  /**
   * Agents whose saved fields (online, reason, silentS: not lastSeen, which changes with
   * every message) changed since the last takeChanged(). The state store is written after
   * every input, and a snapshot of every agent each time cost the broker about 40 % of a
   * core with 5,000 agents sending their health (bench:capacity, docs/CAPACITY.md).
   */
  private readonly changed = new Set<string>();

  private key(siteId: string, agentId: string) {
    return `${siteId}|${agentId}`;
  }

  get(siteId: string, agentId: string): AgentLiveness | undefined {
    return this.agents.get(this.key(siteId, agentId));
  }

  /**
   * Any message from the agent: it is alive. Returns true when it was offline before,
   * or unknown (first message since the broker started: a site ticket of a previous run
   * may still be open).
   */
  seen(siteId: string, agentId: string, at: number): boolean {
    const key = this.key(siteId, agentId);
    const agent = this.agents.get(key);
    if (agent === undefined) {
      this.agents.set(key, { siteId, agentId, online: true, lastSeen: at, reason: '' });
      this.changed.add(key);
      return true;
    }
    agent.lastSeen = Math.max(agent.lastSeen, at);
    const wasOffline = !agent.online;
    agent.online = true;
    if (wasOffline) this.changed.add(key);
    return wasOffline;
  }

  /** Gone: by its will (`reason`) or silent for `silentS` seconds (the heartbeat). */
  offline(
    siteId: string,
    agentId: string,
    at: number,
    why: { reason: string } | { silentS: number },
  ): void {
    const agent = this.get(siteId, agentId) ?? {
      siteId,
      agentId,
      online: false,
      lastSeen: at,
      reason: '',
    };
    agent.online = false;
    if ('reason' in why) {
      agent.reason = why.reason;
      delete agent.silentS;
    } else {
      agent.reason = '';
      agent.silentS = why.silentS;
    }
    this.agents.set(this.key(siteId, agentId), agent);
    this.changed.add(this.key(siteId, agentId));
  }

  /** Agents online but silent for longer than the timeout. */
  silent(now: number, timeoutMs: number): AgentLiveness[] {
    return [...this.agents.values()].filter((a) => a.online && now - a.lastSeen > timeoutMs);
  }

  /**
   * The agents to save: those whose liveness changed since the last call, as the store
   * keeps them (lastSeen 0: a restart starts every heartbeat timeout afresh, load()).
   */
  takeChanged(): AgentLiveness[] {
    const rows = [...this.changed].map((key) => ({ ...this.agents.get(key)!, lastSeen: 0 }));
    this.changed.clear();
    return rows;
  }

  /** A save that did not commit: its agents go with the next one. */
  changedAgain(agents: readonly AgentLiveness[]): void {
    for (const agent of agents) this.changed.add(this.key(agent.siteId, agent.agentId));
  }

  /**
   * The table of a previous run. An agent online then counts as seen `at` (the broker's
   * start): it could not reach a broker that was down, so its heartbeat timeout starts
   * now, not at its last message before the restart. Replaces what the table held (start,
   * or a standby taking over as leader).
   */
  load(agents: readonly AgentLiveness[], at: number): void {
    this.agents.clear();
    // As the store holds them: nothing to save until one changes.
    this.changed.clear();
    for (const agent of agents) {
      this.agents.set(this.key(agent.siteId, agent.agentId), {
        ...agent,
        lastSeen: agent.online ? at : agent.lastSeen,
      });
    }
  }

  offlineOf(siteId: string): AgentLiveness[] {
    return [...this.agents.values()].filter((a) => a.siteId === siteId && !a.online);
  }
}
