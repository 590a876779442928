/**
 * The conformance suite of the notification channels (broker/notify/channels/, STYLE
 * habit 8): what the escalation engine relies on from every driver, each run against
 * the local stand-in of its service (test/standins/). A driver never throws; it says
 * delivered, or refused with the service's own code and message, or timed out, or not
 * reachable; and no secret it holds (the robot URL's token, a signing secret, an
 * AccessKey secret, an SMTP password) is ever in what it returns.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type {
  ChannelDriver,
  OutgoingMessage,
  Recipient,
} from '../../broker/notify/channels/types.js';

export interface ChannelFixture {
  /** A driver with the right settings; `timeoutMs` replaces the 10 s deadline. */
  driver(options: { timeoutMs: number }): ChannelDriver;
  /** A driver the service refuses (a wrong token, secret or password). */
  refusedDriver(options: { timeoutMs: number }): ChannelDriver;
  /** The service's own answer to `refusedDriver`. */
  refusal: { code: string; message: string | RegExp };
  /** Messages the service accepted so far. */
  accepted(): number;
  /** Accept connections and never answer. */
  hang(on: boolean): void;
  /** Stop the service: the next send meets a closed port. */
  stop(): Promise<void>;
  /** Every secret either driver holds. */
  secrets: string[];
  /** Someone the message is for, reachable on this channel. */
  recipient: Recipient;
}

export interface ChannelUnderTest {
  start(): Promise<ChannelFixture>;
  /** The documented messages per minute of one channel; null: none. */
  perMinute: number | null;
}

export function message(
  to: Recipient[],
  overrides: Partial<OutgoingMessage> = {},
): OutgoingMessage {
  return {
    kind: 'ticket',
    language: 'zh-CN',
    title: '紧急工单 #42：cam-03 离线',
    markdown:
      '### 紧急工单 #42\n- **站点** 上海一号库\n- **设备** cam-03\n- [打开工单](https://vigil.example/#/tickets/42)',
    text: '紧急工单 #42：上海一号库 cam-03 离线。打开工单 https://vigil.example/#/tickets/42',
    to,
    sms: {
      priority: '紧急',
      site: '上海一号库',
      device: 'cam-03',
      fault: '离线',
      deadline: '10:40',
      count: '1',
      ticket: '42',
    },
    ticketIds: [42],
    ...overrides,
  };
}

const TIMEOUT_MS = 300;

export function channelSuite(name: string, underTest: ChannelUnderTest): void {
  describe(`channel conformance: ${name}`, () => {
    let fixture: ChannelFixture | null = null;
    const start = async (): Promise<ChannelFixture> => (fixture = await underTest.start());

    afterEach(async () => {
      await fixture?.stop();
      fixture = null;
    });

    const send = async (driver: ChannelDriver, f: ChannelFixture, signal?: AbortSignal) => {
      const result = await driver.send(
        message([f.recipient]),
        signal ?? new AbortController().signal,
      );
      const said = JSON.stringify(result);
      for (const secret of f.secrets) {
        expect(said, 'a secret is in the result').not.toContain(secret);
        expect(said, 'a secret is in the result').not.toContain(encodeURIComponent(secret));
      }
      return result;
    };

    it('delivers, and the service accepted exactly one message', async () => {
      const f = await start();
      const driver = f.driver({ timeoutMs: 5000 });
      expect(driver.perMinute).toBe(underTest.perMinute);
      expect(await send(driver, f)).toEqual({ delivered: true });
      expect(f.accepted()).toBe(1);
    });

    it("keeps the service's refusal: its code and message, not retried", async () => {
      const f = await start();
      const result = await send(f.refusedDriver({ timeoutMs: 5000 }), f);
      expect(result.delivered).toBe(false);
      if (result.delivered) return;
      expect(result.code).toBe(f.refusal.code);
      expect(result.message).toMatch(f.refusal.message);
      expect(result.retryable).toBe(false);
      expect(f.accepted()).toBe(0);
    });

    it('gives up on a service that does not answer within the deadline, to retry', async () => {
      const f = await start();
      f.hang(true);
      const began = Date.now();
      const result = await send(f.driver({ timeoutMs: TIMEOUT_MS }), f);
      expect(result).toMatchObject({ delivered: false, code: 'timeout', retryable: true });
      expect(Date.now() - began).toBeLessThan(TIMEOUT_MS + 3000);
    });

    it('says the service cannot be reached, to retry', async () => {
      const f = await start();
      const driver = f.driver({ timeoutMs: 2000 });
      await f.stop();
      const result = await send(driver, f);
      expect(result).toMatchObject({ delivered: false, code: 'network', retryable: true });
      if (!result.delivered) expect(result.message.length).toBeGreaterThan(10);
    });

    it('stops when the caller aborts, without throwing', async () => {
      const f = await start();
      f.hang(true);
      const controller = new AbortController();
      const pending = send(f.driver({ timeoutMs: 5000 }), f, controller.signal);
      setTimeout(() => controller.abort(), 100);
      expect(await pending).toMatchObject({ delivered: false, code: 'aborted' });
    });
  });
}
