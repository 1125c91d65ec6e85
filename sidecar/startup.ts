/**
 * The library's sidecar openers (`bot-bottle-supervise/sidecar`): each hands out a store whose
 * kinds are loaded, ready for any use. `serve` opens through storage-open.ts instead, and loads
 * the kinds after its port listens.
 */
import type { BottleDatabase } from '../src/database.js';
import { storeKinds } from '../src/kinds/store-kinds.js';
import { openMountedStorage, openStorage, type OpenSidecarOptions, type OpenSidecarStoreOptions, type SidecarStorage } from './storage-open.js';

export type { OpenSidecarOptions, OpenSidecarStoreOptions, SidecarStorage } from './storage-open.js';

/**
 * Opens bottle `slug`'s store the way the launcher set the sidecar up: through the host broker
 * when `brokerUrl` is given (the database stays on the host, behind a VM boundary), otherwise
 * the mounted database (openSidecarStorage). Callers get the same view either way.
 */
export async function openSidecarStore(slug: string, options: OpenSidecarStoreOptions = {}): Promise<SidecarStorage> {
  const { location, queue, bottle, isOpen, failed, close } = await openStorage(slug, options, storeKinds);
  return { location, slug, queue, bottle, isOpen, failed, close };
}

/**
 * The sidecar's start-up checks, in the order that gives the most useful message: the file is
 * there, it is reached through a directory mount on a local filesystem, and its schema is the one
 * this build knows. Only then is the database opened, never created and never migrated: the host
 * owns the file and its schema. Every refusal is a `SuperviseError` of an environment code.
 *
 * What it returns is bottle `slug`'s views and nothing more: no store, audit log or connection
 * that could answer the operator's proposals or reach another bottle.
 */
export function openSidecarStorage(slug: string, options: OpenSidecarOptions = {}): BottleDatabase {
  return openMountedStorage(slug, options, storeKinds);
}
