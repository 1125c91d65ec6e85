import type * as RunTui from './run-tui.js';

const CI_VARIABLES = ['CI', 'CONTINUOUS_INTEGRATION'] as const;

/**
 * ink renders only its final frame when CI or CONTINUOUS_INTEGRATION is set (is-in-ci, read once
 * when ink is first imported). The TUI only ever runs on an interactive terminal, which is never a
 * CI log, so those variables are hidden while ink loads and restored for everything after it (the
 * editor, child processes).
 */
export async function loadSuperviseTui(): Promise<typeof RunTui> {
  const saved = CI_VARIABLES.map((name) => [name, process.env[name]] as const);
  for (const [name] of saved) delete process.env[name];
  try {
    return await import('./run-tui.js');
  } finally {
    for (const [name, value] of saved) if (value !== undefined) process.env[name] = value;
  }
}
