/**
 * The package's version, as `package.json` says (tests/package.test.ts keeps them equal through both
 * bins' `--version`): the CLI and the sidecar report it, and the sidecar image's
 * `org.opencontainers.image.version` label carries it.
 */
export const PACKAGE_VERSION = '0.1.0';
