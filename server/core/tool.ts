/**
 * This tool's name and version, read from package.json in this one place: `--version` of the CLI and
 * the daemon, the daemon's `serverInfo` and log, and the `tool` every backup manifest records. The
 * version is the one npm installs (`npm run pack:cli` copies it into the CLI package).
 */
import packageJson from '../../package.json';

export const TOOL = { name: packageJson.name, version: packageJson.version } as const;
