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
    const agent = this.get(siteId, agentId);
    if (agent === undefined) {
      this.agents.set(this.key(siteId, agentId), {
        siteId,
        agentId,
        online: true,
        lastSeen: at,
        reason: '',
      });
      return true;
    }
    agent.lastSeen = Math.max(agent.lastSeen, at);
    const wasOffline = !agent.online;
    agent.online = true;
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
  }

  /** Agents online but silent for longer than the timeout. */
  silent(now: number, timeoutMs: number): AgentLiveness[] {
    return [...this.agents.values()].filter((a) => a.online && now - a.lastSeen > timeoutMs);
  }

  all(): AgentLiveness[] {
    return [...this.agents.values()].map((a) => ({ ...a }));
  }

  /**
   * The table of a previous run. An agent online then counts as seen `at` (the broker's
   * start): it could not reach a broker that was down, so its heartbeat timeout starts
   * now, not at its last message before the restart. Replaces what the table held (start,
   * or a standby taking over as leader).
   */
  load(agents: readonly AgentLiveness[], at: number): void {
    this.agents.clear();
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
