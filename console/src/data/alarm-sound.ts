/**
 * The wall's alarm sound, made by the Web Audio API (an oscillator, no audio file to
 * load or to go missing): three short high beeps, again every few seconds, until stopped.
 *
 * Browsers start an AudioContext "suspended" until the page has had a user gesture
 * (Chrome's autoplay policy, https://developer.chrome.com/blog/autoplay/#web-audio; the
 * Web Audio spec's "allowed to start"), so the wall shows a button that resumes it. The
 * choice is remembered (data/alarm.ts soundChoice): a browser that lets the page start
 * audio by itself (a kiosk started with --autoplay-policy=no-user-gesture-required) then
 * needs no click after a reload, and any other gets its first click or key anywhere.
 */
import { soundChoice } from './alarm.js';

/** What the wall says about the sound: it plays, it waits for a click, or cannot play. */
export type SoundState = 'running' | 'suspended' | 'unsupported';

/** Repeat period and pattern; 880 Hz square waves cut through a noisy control room. */
const PERIOD_MS = 4_000;
const BEEPS = 3;
const BEEP_S = 0.18;
const GAP_S = 0.12;
const FREQUENCY_HZ = 880;

type AudioContextClass = new () => AudioContext;

export class AlarmSound {
  private readonly context: AudioContext | null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private playing: OscillatorNode[] = [];
  private beepCount = 0;
  private readonly onGesture = (): void => void this.enable();

  /** `onChange` is called when the state or the count of beeps changes, to re-render. */
  constructor(private readonly onChange: () => void) {
    const Ctor = (globalThis as { AudioContext?: AudioContextClass }).AudioContext;
    this.context = Ctor === undefined ? null : new Ctor();
    if (this.context === null) return;
    this.context.onstatechange = () => {
      if (this.context?.state === 'running' && this.timer !== null) this.pattern();
      this.onChange();
    };
    if (soundChoice.get()) {
      // Enabled before: try now (a kiosk policy allows it), else on the first gesture.
      void this.context.resume().catch(() => undefined);
      // `click`, not `pointerdown`: the page changes only after the click has reached its
      // button, never between press and release.
      window.addEventListener('click', this.onGesture, { once: true, capture: true });
      window.addEventListener('keydown', this.onGesture, { once: true, capture: true });
    }
  }

  get state(): SoundState {
    if (this.context === null) return 'unsupported';
    return this.context.state === 'running' ? 'running' : 'suspended';
  }

  /** How many beeps actually played (the context running), for the wall's status line. */
  get beeps(): number {
    return this.beepCount;
  }

  /** Called from the operator's click: the gesture that lets the browser start audio. */
  async enable(): Promise<void> {
    soundChoice.set(true);
    if (this.context === null) return;
    try {
      await this.context.resume();
    } catch {
      // The browser still refuses: the button stays and says so.
    }
    this.onChange();
  }

  /** Beeps now and every few seconds until stop(); calling it again changes nothing. */
  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.pattern(), PERIOD_MS);
    this.pattern();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const oscillator of this.playing) {
      try {
        oscillator.stop();
      } catch {
        // Already ended.
      }
    }
    this.playing = [];
  }

  get active(): boolean {
    return this.timer !== null;
  }

  dispose(): void {
    this.stop();
    window.removeEventListener('click', this.onGesture, { capture: true });
    window.removeEventListener('keydown', this.onGesture, { capture: true });
    void this.context?.close().catch(() => undefined);
  }

  private pattern(): void {
    const context = this.context;
    // A suspended context would queue the beeps and play them all at once on resume.
    if (context === null || context.state !== 'running') return;
    const start = context.currentTime + 0.05;
    for (let i = 0; i < BEEPS; i++) {
      const at = start + i * (BEEP_S + GAP_S);
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      oscillator.type = 'square';
      oscillator.frequency.value = FREQUENCY_HZ;
      // A short ramp at both ends: no click, and not painfully loud.
      gain.gain.setValueAtTime(0, at);
      gain.gain.linearRampToValueAtTime(0.25, at + 0.01);
      gain.gain.setValueAtTime(0.25, at + BEEP_S - 0.02);
      gain.gain.linearRampToValueAtTime(0, at + BEEP_S);
      oscillator.connect(gain).connect(context.destination);
      oscillator.onended = () => {
        this.playing = this.playing.filter((o) => o !== oscillator);
      };
      oscillator.start(at);
      oscillator.stop(at + BEEP_S);
      this.playing.push(oscillator);
      this.beepCount++;
    }
    this.onChange();
  }
}
