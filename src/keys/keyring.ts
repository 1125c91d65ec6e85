import type { KeyObject } from 'node:crypto';
import type { BottleKeyMaterial, HostKeyPair } from './key-files.js';
import {
  macSeal,
  proposalSealInput,
  responseSealInput,
  signatureSeal,
  verifyMacSeal,
  verifySignatureSeal,
  type Seal,
  type SealedProposalFields,
  type SealedResponseFields,
} from './seals.js';

/** Whose seal a row carries, as far as this process can tell. */
export type SealVerdict = 'host' | 'bottle' | 'forged';

/**
 * What a process seals with and checks against. The host holds its signing key and reads each
 * bottle's MAC key; a sidecar holds only its bottle's key and the host's public key, so it can
 * seal as its bottle and verify the host, never sign as the host.
 */
export interface Keyring {
  readonly side: 'host' | 'bottle';
  sealProposal(fields: SealedProposalFields): Seal;
  sealResponse(fields: SealedResponseFields): Seal;
  checkProposal(fields: SealedProposalFields, seal: string | null): SealVerdict;
  checkResponse(fields: SealedResponseFields, seal: string | null): SealVerdict;
}

export class HostKeyring implements Keyring {
  readonly side = 'host';
  readonly #pair: HostKeyPair;
  readonly #bottleKey: (slug: string) => Buffer | undefined;

  constructor(pair: HostKeyPair, bottleKey: (slug: string) => Buffer | undefined) {
    this.#pair = pair;
    this.#bottleKey = bottleKey;
  }

  get publicKey(): KeyObject {
    return this.#pair.publicKey;
  }

  sealProposal(fields: SealedProposalFields): Seal {
    return signatureSeal(this.#pair.privateKey, proposalSealInput(fields));
  }

  sealResponse(fields: SealedResponseFields): Seal {
    return signatureSeal(this.#pair.privateKey, responseSealInput(fields));
  }

  checkProposal(fields: SealedProposalFields, seal: string | null): SealVerdict {
    return this.#check(fields.slug, proposalSealInput(fields), seal);
  }

  checkResponse(fields: SealedResponseFields, seal: string | null): SealVerdict {
    return this.#check(fields.slug, responseSealInput(fields), seal);
  }

  #check(slug: string, input: Buffer, seal: string | null): SealVerdict {
    if (verifySignatureSeal(this.#pair.publicKey, input, seal)) return 'host';
    const key = seal?.startsWith('mac:') ? this.#bottleKey(slug) : undefined;
    return key !== undefined && verifyMacSeal(key, input, seal) ? 'bottle' : 'forged';
  }
}

export class BottleKeyring implements Keyring {
  readonly side = 'bottle';
  readonly #material: BottleKeyMaterial;

  constructor(material: BottleKeyMaterial) {
    this.#material = material;
  }

  sealProposal(fields: SealedProposalFields): Seal {
    return macSeal(this.#material.bottleKey, proposalSealInput(fields));
  }

  sealResponse(fields: SealedResponseFields): Seal {
    return macSeal(this.#material.bottleKey, responseSealInput(fields));
  }

  checkProposal(fields: SealedProposalFields, seal: string | null): SealVerdict {
    return this.#check(proposalSealInput(fields), seal);
  }

  checkResponse(fields: SealedResponseFields, seal: string | null): SealVerdict {
    return this.#check(responseSealInput(fields), seal);
  }

  #check(input: Buffer, seal: string | null): SealVerdict {
    if (verifySignatureSeal(this.#material.hostPublicKey, input, seal)) return 'host';
    return verifyMacSeal(this.#material.bottleKey, input, seal) ? 'bottle' : 'forged';
  }
}
