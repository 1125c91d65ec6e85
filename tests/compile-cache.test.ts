import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileCacheDirectory } from '../src/core/compile-cache.js';
import { tempDir } from './fixtures/storage-support.js';

describe('compileCacheDirectory', () => {
  it("is in the user's own cache directory: $XDG_CACHE_HOME, else ~/.cache", () => {
    const home = tempDir('compile-cache-home-');
    const xdg = tempDir('compile-cache-xdg-');
    expect(compileCacheDirectory({ HOME: home })).toBe(path.join(home, '.cache', 'bot-bottle', 'compile-cache'));
    expect(compileCacheDirectory({ HOME: home, XDG_CACHE_HOME: xdg })).toBe(path.join(xdg, 'bot-bottle', 'compile-cache'));
  });

  it('is none without a home, or with one that is missing or not a directory (never the shared /tmp default)', () => {
    const home = tempDir('compile-cache-home-');
    const file = path.join(home, 'file');
    fs.writeFileSync(file, '');
    expect(compileCacheDirectory({})).toBeUndefined();
    expect(compileCacheDirectory({ HOME: '' })).toBeUndefined();
    expect(compileCacheDirectory({ HOME: path.join(home, 'missing') })).toBeUndefined();
    expect(compileCacheDirectory({ HOME: file })).toBeUndefined();
    expect(compileCacheDirectory({ HOME: path.join(file, 'below') })).toBeUndefined();
  });
});
