import net from 'node:net';
import { SuperviseError } from '../core/errors.js';

/** Loopback addresses: only this machine's users can reach a server bound there. */
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * The address to listen on. Anything but loopback puts the operator's decisions one URL away from
 * the network, so it needs `force` (and then the token is all that stands in the way).
 */
export function checkBindAddress(address: string, force: boolean): string {
  const host = address.trim();
  if (LOOPBACK.has(host)) return host === 'localhost' ? '127.0.0.1' : host;
  if (net.isIP(host) === 0) {
    throw new SuperviseError('usage', `--host ${JSON.stringify(host)} is not an IP address: give 127.0.0.1 (the default), ::1, or with --force another address of this machine.`);
  }
  if (!force) {
    throw new SuperviseError(
      'usage',
      `--host ${host} is not a loopback address: the dashboard answers for the operator, so it listens on 127.0.0.1 only. Reach it from elsewhere through an SSH tunnel (ssh -L), or pass --force-host if you really mean to expose it.`,
    );
  }
  return host;
}

/** The Host header values a browser sends for this server; any other name is DNS rebinding or a mistake. */
export function allowedHostHeaders(address: string, port: number): Set<string> {
  const names = address === '127.0.0.1' || address === '::1' ? ['127.0.0.1', 'localhost', '[::1]'] : [net.isIPv6(address) ? `[${address}]` : address];
  return new Set(names.map((name) => `${name}:${port}`));
}

/** The URL the operator opens: the address as a browser writes it. */
export function baseUrl(address: string, port: number): string {
  return `http://${net.isIPv6(address) ? `[${address}]` : address}:${port}`;
}
