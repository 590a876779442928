/**
 * Rule: agent liveness. An agent is gone when its last will arrives (MQTT 3.1.1 section
 * 3.1.2.5: the broker publishes it when the connection is lost) or when nothing came
 * from it for `heartbeatTimeoutS` (a half-open TCP connection the will would only end
 * after the keep-alive). Gone means one site ticket "site unreachable" covering the
 * agent's devices, and no device tickets meanwhile: nobody watches them.
 */
export interface AgentLiveness {
  siteId: string;
  agentId: string;
  online: boolean;
  lastSeen: number;
  /** Why it is offline: the will's reason or the heartbeat. */
  reason: string;
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

  offline(siteId: string, agentId: string, at: number, reason: string): void {
    const agent = this.get(siteId, agentId) ?? {
      siteId,
      agentId,
      online: false,
      lastSeen: at,
      reason,
    };
    agent.online = false;
    agent.reason = reason;
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
   * now, not at its last message before the restart.
   */
  load(agents: readonly AgentLiveness[], at: number): void {
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

export function siteUnreachableText(agent: AgentLiveness, devices: number): string {
  return `Site gateway agent ${agent.agentId} is offline (${agent.reason}): its ${devices} devices are not watched until it is back`;
}
