import { SuperviseError } from '../core/errors.js';
import { DEFAULT_BROKER_PORT } from '../broker/protocol.js';

/**
 * Where a bottle runs. `docker` and `podman` on Linux share the host's kernel, so the sidecar
 * mounts the shared directory; the others put a VM between the sidecar and the host, where
 * SQLite's locks and shared memory do not reach, so the sidecar talks to the host broker instead.
 */
export type SuperviseBackend = 'docker' | 'podman' | 'docker-desktop' | 'podman-machine' | 'apple-container' | 'microvm';

export const SUPERVISE_BACKENDS: readonly SuperviseBackend[] = ['docker', 'podman', 'docker-desktop', 'podman-machine', 'apple-container', 'microvm'];

export interface BackendProfile {
  /** `mount`: the shared directory is bind-mounted; `broker`: only the key directory is, and the sidecar is given the broker's URL. */
  mode: 'mount' | 'broker';
  /** The name (or address) by which a container of this backend reaches the host's loopback, for the broker's URL. */
  hostAlias: string;
}

const PROFILES: Record<SuperviseBackend, BackendProfile> = {
  docker: { mode: 'mount', hostAlias: 'host.docker.internal' },
  podman: { mode: 'mount', hostAlias: 'host.containers.internal' },
  'docker-desktop': { mode: 'broker', hostAlias: 'host.docker.internal' },
  'podman-machine': { mode: 'broker', hostAlias: 'host.containers.internal' },
  // No built-in name: `container system dns create host.container.internal --localhost <ip>` makes it (see docs/SIDECAR.md).
  'apple-container': { mode: 'broker', hostAlias: 'host.container.internal' },
  // libkrun's TSI carries the guest's connect() out from the VMM on the host, so loopback is the host's.
  microvm: { mode: 'broker', hostAlias: '127.0.0.1' },
};

export function backendProfile(backend: string): BackendProfile {
  if (!(SUPERVISE_BACKENDS as readonly string[]).includes(backend)) {
    throw new SuperviseError('invalid-input', `backend ${JSON.stringify(backend)} is not known; use one of ${SUPERVISE_BACKENDS.join(', ')}.`);
  }
  return PROFILES[backend as SuperviseBackend];
}

/** The broker's URL as the bottle sees the host: a given URL (checked), else the backend's host alias and the port. */
export function brokerUrlFor(profile: BackendProfile, options: { brokerUrl?: string; brokerPort?: number }): string {
  if (options.brokerUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(options.brokerUrl);
    } catch {
      throw new SuperviseError('invalid-input', `brokerUrl ${JSON.stringify(options.brokerUrl)} is not a URL; give http://HOST:PORT as the bottle reaches the host.`);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search !== '' || url.username !== '') {
      throw new SuperviseError('invalid-input', `brokerUrl ${JSON.stringify(options.brokerUrl)} must be http(s)://HOST:PORT with no path, query or user.`);
    }
    return url.origin;
  }
  const port = options.brokerPort ?? DEFAULT_BROKER_PORT;
  if (!Number.isSafeInteger(port) || port < 1 || port > 65535) throw new SuperviseError('invalid-input', `brokerPort must be 1–65535, got ${String(port)}.`);
  return `http://${profile.hostAlias}:${port}`;
}
