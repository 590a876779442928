import { describe, expect, it } from 'vitest';
import { deviceExample } from '../../../shared/api/devices.js';
import { ticketExample } from '../../../shared/api/tickets.js';
import { Store } from '../../../console/src/data/store.js';

describe('Store', () => {
  it('replaces a device from the live stream and tells every subscriber', () => {
    const store = new Store();
    store.setDevices([deviceExample, { ...deviceExample, id: 'cam-02' }]);
    const before = store.get().devices;
    const seen: string[] = [];
    const unsubscribe = store.subscribe((state) =>
      seen.push(state.devices.get('cam-01')?.status ?? 'missing'),
    );

    store.apply({ type: 'device', device: { ...deviceExample, status: 'down' } });

    expect(seen).toEqual(['down']);
    expect(store.get().devices).not.toBe(before); // a new map, so Lit re-renders
    expect(store.get().devices.get('cam-02')).toEqual({ ...deviceExample, id: 'cam-02' });
    unsubscribe();
    store.apply({ type: 'device', device: deviceExample });
    expect(seen).toEqual(['down']);
  });

  it('adds a ticket it did not know and keeps the scope of the lists', () => {
    const store = new Store();
    store.setTickets([], 'all');
    store.apply({ type: 'ticket', ticket: ticketExample });
    expect([...store.get().tickets.keys()]).toEqual([17]);
    expect(store.get().ticketScope).toBe('all');
  });

  it('forgets everything on reset but keeps the message for the login screen', () => {
    const store = new Store();
    store.setDevices([deviceExample]);
    store.reset('signed-out', 'Your session has ended.');
    expect(store.get()).toMatchObject({ session: 'signed-out', notice: 'Your session has ended.' });
    expect(store.get().devices.size).toBe(0);
  });
});
