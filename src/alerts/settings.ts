import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { SuperviseError } from '../core/errors.js';
import { stateDir } from '../storage/layout.js';

/** How the operator is told of new proposals; every field has a default, so no file means "desktop only". */
export interface NotifySettings {
  /** argv of the hook (run without a shell), with the proposal's summary as JSON on stdin; undefined: none. */
  hook: string[] | undefined;
  hookTimeoutSeconds: number;
  /** A desktop notification (notify-send on Linux, osascript on macOS) where the host has one. */
  desktop: boolean;
  /** Notifications per bottle in any minute; past it they are counted and told with the next one. */
  perBottlePerMinute: number;
}

/** The host settings file: the operator's, outside the shared directory no bottle can reach past. */
export interface HostSettings {
  notify: NotifySettings;
}

export const DEFAULT_NOTIFY_SETTINGS: NotifySettings = { hook: undefined, hookTimeoutSeconds: 10, desktop: true, perBottlePerMinute: 6 };

const notifySchema = z
  .object({
    hook: z.array(z.string().min(1, 'an argument is empty')).min(1, 'give the command as a non-empty array, e.g. ["/usr/local/bin/page-me", "--quiet"]').optional(),
    hookTimeoutSeconds: z.number().int().min(1).max(300).optional(),
    desktop: z.boolean().optional(),
    perBottlePerMinute: z.number().int().min(1).max(1000).optional(),
  })
  .strict();

const settingsSchema = z.object({ notify: notifySchema.optional() }).strict();

/** `~/.bot-bottle/settings.json`. */
export function hostSettingsPath(): string {
  return path.join(stateDir(), 'settings.json');
}

function settingsError(file: string, problem: string, fix: string): SuperviseError {
  return new SuperviseError('config', `${file}: ${problem}. ${fix}`);
}

/**
 * Reads and checks the host settings; a missing file is every default. The file names a command
 * the host runs, so it must be yours and writable by nobody else, as a key file must.
 */
export function readHostSettings(file: string = hostSettingsPath()): HostSettings {
  let text: string;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw settingsError(file, 'is not a regular file', 'Replace it with a JSON file (see docs/CLI.md, "notify").');
    if (process.getuid && stat.uid !== process.getuid()) throw settingsError(file, `is owned by uid ${stat.uid}, not by you`, `It names a command to run: chown it to yourself or remove it.`);
    if ((stat.mode & 0o022) !== 0) throw settingsError(file, `can be written by others (mode ${(stat.mode & 0o777).toString(8)})`, `It names a command to run: chmod 600 ${file}.`);
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { notify: { ...DEFAULT_NOTIFY_SETTINGS } };
    if (error instanceof SuperviseError) throw error;
    throw settingsError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 'Check its permissions.');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw settingsError(file, `is not valid JSON (${(error as Error).message})`, 'Fix the syntax; the file is one JSON object such as {"notify": {"hook": ["/path/to/hook"]}}.');
  }
  const parsed = settingsSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(top level)'}: ${issue.message}`).join('; ');
    throw settingsError(file, `has invalid settings (${problems})`, 'Known settings: notify.hook (array of strings), notify.hookTimeoutSeconds (1–300), notify.desktop (true/false), notify.perBottlePerMinute (1–1000).');
  }
  const notify = parsed.data.notify ?? {};
  return {
    notify: {
      hook: notify.hook,
      hookTimeoutSeconds: notify.hookTimeoutSeconds ?? DEFAULT_NOTIFY_SETTINGS.hookTimeoutSeconds,
      desktop: notify.desktop ?? DEFAULT_NOTIFY_SETTINGS.desktop,
      perBottlePerMinute: notify.perBottlePerMinute ?? DEFAULT_NOTIFY_SETTINGS.perBottlePerMinute,
    },
  };
}
