import { render, type Instance } from 'ink';
import { stalenessLookup } from '../../bottles/staleness.js';
import { startCheckpointing, type SuperviseDatabase } from '../../database.js';
import { colorsFor } from '../common.js';
import { editInEditor } from './editor.js';
import { SuperviseSession } from './session.js';
import { assertInteractiveTerminal } from './terminal.js';
import { SuperviseApp } from './tui.js';

const ENTER_ALTERNATE_SCREEN = '\u001b[?1049h\u001b[2J\u001b[H';
const LEAVE_ALTERNATE_SCREEN = '\u001b[?1049l';
/** Ages on screen move on even when nothing is written. */
const CLOCK_MS = 1_000;
/** Expiry changes no row until someone writes, so the list is re-read now and then regardless. */
const EXPIRY_SWEEP_MS = 15_000;

export interface TuiOptions {
  responder: string;
  untilSettled?: string;
  focus?: string;
}

export interface TuiSummary {
  answered: number;
}

/**
 * Runs the triage TUI full-screen until the operator quits. The list follows the database live
 * through the notifier; `$EDITOR` gets the terminal by unmounting the UI and mounting it again.
 */
export async function runSuperviseTui(database: SuperviseDatabase, options: TuiOptions): Promise<TuiSummary> {
  assertInteractiveTerminal('bot-bottle supervise');
  const colors = colorsFor(process.stdout);
  let instance: Instance | undefined;
  let resolveQuit: () => void = () => undefined;
  const quit = new Promise<void>((resolve) => (resolveQuit = resolve));

  const mount = (): void => {
    process.stdout.write(ENTER_ALTERNATE_SCREEN);
    instance = render(<SuperviseApp session={session} colors={colors} staleness={(proposal) => stalenessLookup(database.bottles)(proposal)} />, {
      exitOnCtrlC: false,
      patchConsole: false,
    });
  };
  const unmount = async (): Promise<void> => {
    const current = instance;
    instance = undefined;
    if (!current) return;
    current.unmount();
    await current.waitUntilExit();
    process.stdout.write(LEAVE_ALTERNATE_SCREEN);
  };

  const session: SuperviseSession = new SuperviseSession(database.queue, {
    responder: options.responder,
    ...(options.untilSettled === undefined ? {} : { untilSettled: options.untilSettled }),
    ...(options.focus === undefined ? {} : { focus: options.focus }),
    pageSize: () => Math.max(1, (process.stdout.rows || 30) - 10),
    bottleOverview: (now) => database.bottles.overview(now),
    onQuit: () => resolveQuit(),
    edit: async (text) => {
      await unmount();
      try {
        return editInEditor(text);
      } finally {
        mount();
      }
    },
  });

  const unsubscribe = database.queue.subscribe({ target: 'operator' }, () => session.refresh());
  const stopCheckpointing = startCheckpointing(database.db);
  const clock = setInterval(() => session.tick(), CLOCK_MS);
  const sweep = setInterval(() => session.refresh(), EXPIRY_SWEEP_MS);
  // A closed terminal or a polite kill ends the session the same way q does, leaving the screen usable.
  const onSignal = (): void => session.quit();
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  try {
    mount();
    // A proposal that arrived between the first read and the subscription is picked up here.
    session.refresh();
    // The database failing under the session (its schema rolled back, the file damaged) ends it with that error.
    await Promise.race([quit, database.notifier.failed.then((error) => Promise.reject(error))]);
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    clearInterval(clock);
    clearInterval(sweep);
    stopCheckpointing();
    unsubscribe();
    await unmount();
  }
  return { answered: session.state.answeredCount };
}
