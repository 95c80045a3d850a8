import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

type RequestContext = Parameters<KubeConfig['applySecurityAuthentication']>[0];

/**
 * A KubeConfig whose API requests share one keep-alive agent. client-node builds a new agent
 * (so a new TCP connection, and with TLS a new handshake) for every request; the node daemon
 * makes several API requests per pod, and at a burst of 20 pods the connects were a visible part
 * of its CPU and of every allocation's latency. Proxy agents are left as client-node makes them.
 * The shared agent is rebuilt when the TLS material changes (a rotated client certificate).
 */
export class KeepAliveKubeConfig extends KubeConfig {
  #agent: HttpAgent | undefined;
  #key: string | undefined;

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const made = context.getAgent();
    if (made === undefined || (made.constructor !== HttpAgent && made.constructor !== HttpsAgent)) return;
    const o = (made as HttpAgent & { options: Record<string, unknown> }).options;
    const key = JSON.stringify([made.constructor.name, o.ca, o.cert, o.key, o.pfx, o.rejectUnauthorized, o.servername]);
    if (this.#agent === undefined || this.#key !== key) {
      this.#agent?.destroy();
      const shared = { ...o, keepAlive: true };
      this.#agent = made.constructor === HttpsAgent ? new HttpsAgent(shared) : new HttpAgent(shared);
      this.#key = key;
    }
    made.destroy();
    context.setAgent(this.#agent);
  }

  /** Closes the shared agent's idle connections (at shutdown, so the process can exit). */
  closeConnections(): void {
    this.#agent?.destroy();
    this.#agent = undefined;
  }
}
