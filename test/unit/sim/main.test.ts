import { describe, expect, it } from 'vitest';
import { parseSimArgs } from '../../../sim/main.js';

describe('vigil sim options', () => {
  it('defaults: control port 8090, admin, a generated password', () => {
    const parsed = parseSimArgs([], {});
    expect(parsed.ok && !parsed.help).toBe(true);
    if (!parsed.ok || parsed.help) return;
    expect(parsed.options.controlPort).toBe(8090);
    expect(parsed.options.credentials.username).toBe('admin');
    expect(parsed.options.credentials.password.length).toBeGreaterThanOrEqual(12);
    expect(parsed.generatedPassword).toBe(true);
  });

  it('takes the port from SIM_CONTROL_PORT and credentials from the environment', () => {
    const env = { SIM_CONTROL_PORT: '9100', VIGIL_SIM_USERNAME: 'onvif', VIGIL_SIM_PASSWORD: 'pw' };
    const parsed = parseSimArgs(['--cameras', '3', '--nvrs', '1', '--channels', '8'], env);
    expect(parsed).toMatchObject({
      ok: true,
      generatedPassword: false,
      options: {
        controlPort: 9100,
        cameras: 3,
        nvrs: 1,
        nvrChannels: 8,
        credentials: { username: 'onvif', password: 'pw' },
      },
    });
  });

  it('--control-port wins over the environment', () => {
    const parsed = parseSimArgs(['--control-port', '0'], { SIM_CONTROL_PORT: '9100' });
    expect(parsed).toMatchObject({ ok: true, options: { controlPort: 0 } });
  });

  it('reports every bad value by option name', () => {
    const parsed = parseSimArgs(['--cameras', 'many', '--nvrs', '1.5'], {});
    expect(parsed).toEqual({
      ok: false,
      errors: [
        '--cameras: expected a whole number, got "many"',
        '--nvrs: expected a whole number, got "1.5"',
      ],
    });
  });

  it('reports out-of-range values and unknown options', () => {
    expect(parseSimArgs(['--channels', '0'], {})).toMatchObject({
      ok: false,
      errors: [expect.stringMatching(/^--channels: /)],
    });
    expect(parseSimArgs(['--site-id', 'a/b'], {})).toMatchObject({
      ok: false,
      errors: [expect.stringMatching(/^--site-id: /)],
    });
    expect(parseSimArgs(['--bogus'], {}).ok).toBe(false);
  });
});

describe('vigil sim --site', () => {
  it('takes the layout and timed faults from the file; --site-id still wins', () => {
    const parsed = parseSimArgs(['--site', 'demo', '--site-id', 'other'], {
      VIGIL_SIM_PASSWORD: 'pw',
    });
    expect(parsed.ok && !parsed.help).toBe(true);
    if (!parsed.ok || parsed.help) return;
    expect(parsed.options.siteId).toBe('other');
    expect(parsed.options.devices).toHaveLength(26);
    expect(parsed.options.timedFaults?.length).toBeGreaterThan(2);
    expect(parsed.options.discovery).toEqual({ address: '0.0.0.0', port: 3702, multicast: true });
  });

  it('refuses --cameras with --site, and a missing file, saying what to do', () => {
    expect(parseSimArgs(['--site', 'demo', '--cameras', '3'], {})).toMatchObject({
      ok: false,
      errors: ['--cameras: not with --site (the file says)'],
    });
    expect(parseSimArgs(['--site', 'missing.yaml'], {})).toMatchObject({
      ok: false,
      errors: [expect.stringMatching(/^--site: no site file "missing.yaml"/)],
    });
  });

  it('--discovery-port 0 turns discovery off', () => {
    const parsed = parseSimArgs(['--discovery-port', '0'], {});
    expect(parsed.ok && !parsed.help && parsed.options.discovery).toBe(undefined);
  });
});
