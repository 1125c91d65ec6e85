import type { KeyObject } from 'node:crypto';
import { KEYS_DIR_IN_CONTAINER, ensureHostKeyPair, keysDir, readBottleKey, readBottleKeyMaterial, readHostKeyPair, type BottleKeyMaterial, type HostKeyPair } from './key-files.js';
import {
  kindSealInput,
  heartbeatSealInput,
  macSeal,
  proposalDigestSealInput,
  proposalSealInput,
  registrationSealInput,
  responseSealInput,
  signatureSeal,
  verifyMacSeal,
  verifySignatureSeal,
  type Seal,
  type SealedKindFields,
  type SealedHeartbeatFields,
  type SealedProposalDigest,
  type SealedProposalFields,
  type SealedRegistrationFields,
  type SealedResponseFields,
} from './seals.js';

/** Whose seal a row carries, as far as this process can tell. A row without a seal is `forged`. */
export type SealVerdict = 'host' | 'bottle' | 'forged';

/** What every keyring does; `Keyring` says which side it is. */
interface Sealer {
  sealProposal(fields: SealedProposalFields): Seal;
  sealResponse(fields: SealedResponseFields): Seal;
  checkProposal(fields: SealedProposalFields, seal: string | null): SealVerdict;
  /** The same verdict as `checkProposal`, from the payload's sha256 as this process computed it. */
  checkProposalDigest(fields: SealedProposalDigest, seal: string | null): SealVerdict;
  checkResponse(fields: SealedResponseFields, seal: string | null): SealVerdict;
  /** Only the host records kinds, so only its signature makes a kind record trusted. */
  kindSealedByHost(fields: SealedKindFields, seal: string | null): boolean;
}

/**
 * What a process seals with and checks against. The host holds its signing key and reads each
 * bottle's MAC key; a sidecar holds only its bottle's key and the host's public key, so it can
 * seal as its bottle and verify the host, never sign as the host, and only for its own slug.
 */
export type Keyring = HostKeyring | BottleKeyring;

/**
 * Verdicts are pure functions of the sealed input and the seal, and a list redrawn on every change
 * would otherwise verify the same signatures over and over. Bounded so a long-running TUI stays
 * small. `forged` is not kept: it may only mean a bottle key this process has not read yet.
 */
class VerdictCache {
  static readonly #LIMIT = 10_000;
  readonly #verdicts = new Map<string, SealVerdict>();

  get(input: Buffer, seal: string | null, check: () => SealVerdict): SealVerdict {
    const key = `${seal ?? ''}\n${input.toString('utf8')}`;
    const known = this.#verdicts.get(key);
    if (known !== undefined) return known;
    const verdict = check();
    if (verdict === 'forged') return verdict;
    if (this.#verdicts.size >= VerdictCache.#LIMIT) this.#verdicts.clear();
    this.#verdicts.set(key, verdict);
    return verdict;
  }
}

/**
 * Where a host keyring gets its pair: `read` what exists (checking a seal needs no key to be made),
 * `make` it the first time something is signed, so commands that only read never create a key.
 */
export interface HostKeySource {
  read(): HostKeyPair | undefined;
  make(): HostKeyPair;
}

export class HostKeyring implements Sealer {
  readonly side = 'host';
  readonly #source: HostKeySource;
  #pair: HostKeyPair | undefined;
  readonly #bottleKey: (slug: string) => Buffer | undefined;
  readonly #bottleKeys = new Map<string, Buffer>();
  readonly #verdicts = new VerdictCache();

  constructor(pair: HostKeyPair | HostKeySource, bottleKey: (slug: string) => Buffer | undefined) {
    this.#source = 'make' in pair ? pair : { read: () => pair, make: () => pair };
    this.#bottleKey = bottleKey;
  }

  /** The host's public key, made with the pair if there is none yet. */
  get publicKey(): KeyObject {
    return this.#signingPair().publicKey;
  }

  sealProposal(fields: SealedProposalFields): Seal {
    return signatureSeal(this.#signingPair().privateKey, proposalSealInput(fields));
  }

  sealResponse(fields: SealedResponseFields): Seal {
    return signatureSeal(this.#signingPair().privateKey, responseSealInput(fields));
  }

  sealKind(fields: SealedKindFields): Seal {
    return signatureSeal(this.#signingPair().privateKey, kindSealInput(fields));
  }

  kindSealedByHost(fields: SealedKindFields, seal: string | null): boolean {
    const hostKey = seal?.startsWith('sig:') ? this.#checkingKey() : undefined;
    return hostKey !== undefined && verifySignatureSeal(hostKey, kindSealInput(fields), seal);
  }

  /** A bottle's registration or retirement, which only the host may write. */
  sealRegistration(fields: SealedRegistrationFields): Seal {
    return signatureSeal(this.#signingPair().privateKey, registrationSealInput(fields));
  }

  /** `host` only for the host's own signature: a bottle's MAC over a registration is a forgery. */
  checkRegistration(fields: SealedRegistrationFields, seal: string | null): SealVerdict {
    const verdict = this.#check(fields.slug, registrationSealInput(fields), seal);
    return verdict === 'host' ? 'host' : 'forged';
  }

  /** `bottle` only for the bottle's own MAC: nobody else, the host included, speaks for a sidecar. */
  checkHeartbeat(fields: SealedHeartbeatFields, seal: string | null): SealVerdict {
    const verdict = this.#check(fields.slug, heartbeatSealInput(fields), seal);
    return verdict === 'bottle' ? 'bottle' : 'forged';
  }

  #signingPair(): HostKeyPair {
    this.#pair ??= this.#source.make();
    return this.#pair;
  }

  #checkingKey(): KeyObject | undefined {
    this.#pair ??= this.#source.read();
    return this.#pair?.publicKey;
  }

  checkProposal(fields: SealedProposalFields, seal: string | null): SealVerdict {
    return this.#check(fields.slug, proposalSealInput(fields), seal);
  }

  checkProposalDigest(fields: SealedProposalDigest, seal: string | null): SealVerdict {
    return this.#check(fields.slug, proposalDigestSealInput(fields), seal);
  }

  checkResponse(fields: SealedResponseFields, seal: string | null): SealVerdict {
    return this.#check(fields.slug, responseSealInput(fields), seal);
  }

  #check(slug: string, input: Buffer, seal: string | null): SealVerdict {
    return this.#verdicts.get(input, seal, () => {
      const hostKey = seal?.startsWith('sig:') ? this.#checkingKey() : undefined;
      if (hostKey !== undefined && verifySignatureSeal(hostKey, input, seal)) return 'host';
      const key = seal?.startsWith('mac:') ? this.#keyOf(slug) : undefined;
      return key !== undefined && verifyMacSeal(key, input, seal) ? 'bottle' : 'forged';
    });
  }

  /** A bottle's key once found is kept: keys are made once and never change under a running host. */
  #keyOf(slug: string): Buffer | undefined {
    const known = this.#bottleKeys.get(slug);
    if (known) return known;
    const key = this.#bottleKey(slug);
    if (key) this.#bottleKeys.set(slug, key);
    return key;
  }
}

export class BottleKeyring implements Sealer {
  readonly side = 'bottle';
  /** The one bottle this key belongs to: a store opened with it touches no other slug's rows. */
  readonly slug: string;
  readonly #material: BottleKeyMaterial;
  readonly #verdicts = new VerdictCache();

  constructor(slug: string, material: BottleKeyMaterial) {
    this.slug = slug;
    this.#material = material;
  }

  sealProposal(fields: SealedProposalFields): Seal {
    return macSeal(this.#material.bottleKey, proposalSealInput(fields));
  }

  sealResponse(fields: SealedResponseFields): Seal {
    return macSeal(this.#material.bottleKey, responseSealInput(fields));
  }

  sealHeartbeat(fields: SealedHeartbeatFields): Seal {
    return macSeal(this.#material.bottleKey, heartbeatSealInput(fields));
  }

  checkProposal(fields: SealedProposalFields, seal: string | null): SealVerdict {
    return this.#check(proposalSealInput(fields), seal);
  }

  checkProposalDigest(fields: SealedProposalDigest, seal: string | null): SealVerdict {
    return this.#check(proposalDigestSealInput(fields), seal);
  }

  checkResponse(fields: SealedResponseFields, seal: string | null): SealVerdict {
    return this.#check(responseSealInput(fields), seal);
  }

  kindSealedByHost(fields: SealedKindFields, seal: string | null): boolean {
    return verifySignatureSeal(this.#material.hostPublicKey, kindSealInput(fields), seal);
  }

  #check(input: Buffer, seal: string | null): SealVerdict {
    return this.#verdicts.get(input, seal, () => {
      if (verifySignatureSeal(this.#material.hostPublicKey, input, seal)) return 'host';
      return verifyMacSeal(this.#material.bottleKey, input, seal) ? 'bottle' : 'forged';
    });
  }
}

/** The host's keyring from its keys directory; the host's pair is made the first time it signs. */
export function openHostKeyring(dir: string = keysDir()): HostKeyring {
  return new HostKeyring({ read: () => readHostKeyPair(dir), make: () => ensureHostKeyPair(dir) }, (slug) => readBottleKey(slug, dir));
}

/** A sidecar's keyring from its read-only key mount. */
export function openBottleKeyring(slug: string, dir: string = KEYS_DIR_IN_CONTAINER): BottleKeyring {
  return new BottleKeyring(slug, readBottleKeyMaterial(dir));
}
