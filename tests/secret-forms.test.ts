import { describe, expect, it } from 'vitest';
import { SecretForms } from '../src/kinds/secret-forms.js';
import { encodedCorpus } from './fixtures/token-corpus.js';

const TOKEN = 'ghp_R8x2Kq9ZtY4mW7vB1nC3dF6hJ0aL5sE';
const MARKER = '[REDACTED]';

describe('SecretForms', () => {
  const forms = new SecretForms(TOKEN);

  it.each(encodedCorpus(TOKEN))('finds and redacts the token %s', (_name, text) => {
    expect(forms.foundIn(text)).toBe(true);
    const redacted = forms.redact(text, MARKER);
    expect(redacted).toContain(MARKER);
    expect(forms.foundIn(redacted)).toBe(false);
  });

  it('leaves text without the token alone', () => {
    const text = `Authorization: Basic ${Buffer.from('alice:not-the-token-at-all').toString('base64')} and ghp_other 616263`;
    expect(forms.foundIn(text)).toBe(false);
    expect(forms.redact(text, MARKER)).toBe(text);
  });

  it('finds a token percent-encoded twice', () => {
    const once = [...Buffer.from(TOKEN)].map((b) => `%${b.toString(16)}`).join('');
    expect(forms.foundIn(once.replace(/%/g, '%25'))).toBe(true);
  });
});
