import { Presets, SingleBar } from 'cli-progress';

/**
 * A bar on stderr for a person watching a long step, started by the first report (which knows the
 * total). Nothing at all when stderr is not a terminal: a script or a log file gets no bar.
 * cli-progress redraws synchronously on update, so a step that never yields still moves it.
 */
export class TerminalProgress {
  readonly #format: string;
  #bar: SingleBar | undefined;

  /** `what` names the step (`exporting`), `unit` what is counted (`entry`). */
  constructor(what: string, unit: string) {
    this.#format = `${what} [{bar}] {percentage}% | ${unit} {value}/{total} | {eta_formatted} left`;
  }

  report(done: number, total: number): void {
    if (!process.stderr.isTTY || total === 0) return;
    if (!this.#bar) {
      this.#bar = new SingleBar({ stream: process.stderr, format: this.#format, hideCursor: true, clearOnComplete: true }, Presets.shades_classic);
      this.#bar.start(total, 0);
    }
    this.#bar.update(Math.min(done, total));
  }

  stop(): void {
    this.#bar?.stop();
    this.#bar = undefined;
  }
}
