/**
 * What the sidecar's command tree shows in its help and its implementations use, kept apart so
 * that `--version`, `--help` and `propose` load neither the MCP SDK nor the server.
 */
export const DEFAULT_PORT = 9100;

export const SERVE_EXIT = { ok: 0, refused: 1, usage: 2 } as const;
