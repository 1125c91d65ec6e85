// The runtime the suite runs on: the project targets Node 24 (22 and 26 for the smoke set), and the
// machine's own Node may be older, so a run that silently fell back to it would prove nothing.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import semver from 'semver';

const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };
const expectedMajor = process.env.BOT_BOTTLE_EXPECT_NODE_MAJOR ?? '24';

describe('runtime', () => {
  it(`runs on Node ${expectedMajor}`, () => {
    expect(process.versions.node.split('.')[0]).toBe(expectedMajor);
  });

  it('satisfies the engines range the package declares', () => {
    expect(semver.satisfies(process.versions.node, packageJson.engines.node)).toBe(true);
  });

  it('gives child processes started as `node` the same runtime', () => {
    expect(execFileSync('node', ['-p', 'process.version'], { encoding: 'utf8' }).trim()).toBe(process.version);
  });
});
