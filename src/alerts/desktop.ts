import fs from 'node:fs';
import path from 'node:path';
import { runHook, type HookResult } from './hook.js';

/** A desktop notification command this host has, and how to call it. */
export interface DesktopNotifier {
  name: 'notify-send' | 'osascript';
  show(title: string, body: string): Promise<HookResult>;
}

const SHOW_TIMEOUT_MS = 10_000;

function onPath(command: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** notify-send's body is markup on most notification servers: a bottle's `<a href>` must stay text. */
function escapeMarkup(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * notify-send on Linux with a desktop session (a display or a session bus), osascript on macOS;
 * undefined on a host without either (a server, a container). Texts go as arguments, never
 * through a shell or into a script's source.
 */
export function findDesktopNotifier(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): DesktopNotifier | undefined {
  if (platform === 'darwin') {
    const osascript = onPath('osascript', env);
    if (osascript === undefined) return undefined;
    const script = ['on run argv', 'display notification (item 2 of argv) with title (item 1 of argv)', 'end run'].flatMap((line) => ['-e', line]);
    return { name: 'osascript', show: (title, body) => runHook([osascript, ...script, title, body], '', SHOW_TIMEOUT_MS) };
  }
  const session = env.DISPLAY ?? env.WAYLAND_DISPLAY ?? env.DBUS_SESSION_BUS_ADDRESS;
  const notifySend = onPath('notify-send', env);
  if (notifySend === undefined || session === undefined || session === '') return undefined;
  return { name: 'notify-send', show: (title, body) => runHook([notifySend, '--app-name=bot-bottle', '--', escapeMarkup(title), escapeMarkup(body)], '', SHOW_TIMEOUT_MS) };
}
