import { afterEach, describe, expect, it, vi } from 'vitest';
import { ticketExample, type Ticket } from '../../../shared/api/tickets.js';
import { AlarmTracker, alarmingTickets } from '../../../console/src/data/alarm.js';
import { notifyEmergency, toggleNotifications } from '../../../console/src/data/desktop-notify.js';

const emergency = (id: number, status: Ticket['status'] = 'open'): Ticket => ({
  ...ticketExample,
  id,
  priority: 'emergency',
  status,
  resolvedAt: null,
  openedAt: new Date(Date.UTC(2026, 11, 6, 3, id)).toISOString(),
});

describe('the wall alarm', () => {
  it('sounds for emergencies nobody acknowledged, oldest first, and for nothing else', () => {
    const tickets = [
      emergency(3),
      emergency(2),
      { ...emergency(4), priority: 'serious' as const },
      emergency(5, 'acknowledged'),
      emergency(6, 'dispatched'),
      { ...emergency(7, 'resolved'), resolvedAt: '2026-12-06T04:00:00.000Z' },
    ];
    expect(alarmingTickets(tickets).map((t) => t.id)).toEqual([2, 3]);
  });

  it('stops by itself once acknowledged; a mute holds for this alarm only', () => {
    const alarm = new AlarmTracker();
    expect(alarm.update([emergency(1)]).map((t) => t.id)).toEqual([1]);
    expect([alarm.flashing, alarm.sounding]).toEqual([true, true]);
    // The same ticket again (a live update of its countdowns): not new.
    expect(alarm.update([emergency(1)])).toEqual([]);

    alarm.mute();
    expect([alarm.flashing, alarm.sounding]).toEqual([true, false]);
    expect(alarm.update([emergency(1), emergency(2)]).map((t) => t.id)).toEqual([2]);
    expect(alarm.sounding).toBe(true);

    alarm.update([emergency(1, 'acknowledged'), emergency(2, 'acknowledged')]);
    expect([alarm.flashing, alarm.sounding]).toEqual([false, false]);
    // Open again later (a relapse): a new alarm, the old mute forgotten.
    expect(alarm.update([emergency(1)]).map((t) => t.id)).toEqual([1]);
    expect(alarm.sounding).toBe(true);
  });
});

describe('desktop notifications of new emergencies', () => {
  type Options = { tag?: string };
  const shown: { title: string; options: Options; onclick?: () => void }[] = [];
  class FakeNotification {
    static permission: 'default' | 'granted' | 'denied' = 'default';
    static requestPermission = vi.fn(async () => {
      FakeNotification.permission = 'granted';
      return FakeNotification.permission;
    });
    onclick?: () => void;
    constructor(title: string, options: Options) {
      shown.push(Object.assign(this, { title, options }) as never);
    }
    close(): void {}
  }
  const storage = new Map<string, string>();

  function browser(visibility: 'visible' | 'hidden'): void {
    vi.stubGlobal('Notification', FakeNotification);
    vi.stubGlobal('document', { visibilityState: visibility });
    vi.stubGlobal('focus', vi.fn());
    vi.stubGlobal('localStorage', {
      getItem: (key: string) => storage.get(key) ?? null,
      setItem: (key: string, value: string) => storage.set(key, value),
    });
  }

  afterEach(() => {
    vi.unstubAllGlobals();
    shown.length = 0;
  });

  const notice = (onClick = vi.fn()) => ({
    ticketId: 9,
    title: 'Emergency #9',
    body: 'Site: demo-site',
    lang: 'en',
    onClick,
  });

  it('asks permission only from the opt-in, then notifies while the tab is hidden', async () => {
    browser('hidden');
    notifyEmergency(notice());
    expect(shown).toEqual([]);
    expect(FakeNotification.requestPermission).not.toHaveBeenCalled();

    expect(await toggleNotifications()).toBe('on');
    expect(FakeNotification.requestPermission).toHaveBeenCalledTimes(1);
    const onClick = vi.fn();
    notifyEmergency(notice(onClick));
    expect(shown.map((n) => [n.title, n.options.tag])).toEqual([
      ['Emergency #9', 'vigil-ticket-9'],
    ]);
    shown[0]!.onclick!();
    expect(onClick).toHaveBeenCalled();
  });

  it('stays quiet while the tab is visible: the wall flashes then', async () => {
    browser('visible');
    storage.set('vigil.alarm.notifications', 'on');
    FakeNotification.permission = 'granted';
    notifyEmergency(notice());
    expect(shown).toEqual([]);
    expect(await toggleNotifications()).toBe('off');
  });
});
