import { inspect } from 'node:util';

const HIDDEN = '[secret]';

/**
 * A password or private key. It prints as "[secret]" through String(), JSON.stringify and
 * console.log/util.inspect, so a config object dumped into a log or an error cannot leak
 * it; only `reveal()` gives the value, at the one place that hands it to a library.
 */
export class Secret<T extends string | Buffer = string> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  reveal(): T {
    return this.#value;
  }

  toString(): string {
    return HIDDEN;
  }

  toJSON(): string {
    return HIDDEN;
  }

  [inspect.custom](): string {
    return HIDDEN;
  }
}
