/**
 * A signed-in request to a running broker that must succeed (any 2xx): the set-up steps
 * of a browser test (customers, sites, users), failing with the broker's own answer.
 */
import { expect } from 'vitest';

export function adminCall(baseUrl: () => string, token: () => string) {
  return async (method: string, path: string, body: unknown): Promise<void> => {
    const response = await fetch(`${baseUrl()}${path}`, {
      method,
      headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status, `${method} ${path}: ${await response.text()}`).toBeLessThan(300);
  };
}
