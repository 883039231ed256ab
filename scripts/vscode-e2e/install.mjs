#!/usr/bin/env node
// Installs what test/vscode needs to run the extension in a real VS Code without internet:
// Debian's chromium, ripgrep and libkrb5-dev, and code-server (VS Code server + web workbench,
// from npm) into <repo>/.cache/code-server, outside the project's own dependencies (300 MB that
// must never enter the .vsix). Idempotent: a marker file holding the version makes a second run
// return at once. Why each install fix exists: ../../docs/design/vscode-e2e.md.
// Usage: node scripts/vscode-e2e/install.mjs          (GLK_CODE_SERVER_DIR moves the install)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const config = JSON.parse(readFileSync(join(here, 'code-server.json'), 'utf8'));
const version = config.codeServer;
const installDir = resolve(process.env.GLK_CODE_SERVER_DIR ?? join(root, '.cache', 'code-server'));
const marker = join(installDir, '.installed');
const entry = join(installDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

/** Install scripts of code-server's tree that must run (npm 11 lists unreviewed ones otherwise). */
const allowScripts = {
  'code-server': true, 'node-pty': true, '@vscode/ripgrep': true, kerberos: true, '@parcel/watcher': true,
  '@vscode/spdlog': true, '@vscode/sqlite3': true, '@vscode/windows-registry': true, 'native-watchdog': true,
  '@vscode/deviceid': true, argon2: true,
};

class InstallError extends Error {}

const log = (message) => console.log(`[vscode-e2e install] ${message}`);

function run(command, args, options = {}) {
  log(`$ ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) throw new InstallError(`${command} could not start: ${result.error.message}`);
  return result.status ?? 1;
}

function isInstalled(pkg) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${db:Status-Status}', pkg], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.trim() === 'installed';
}

function hasPackageLists() {
  try {
    return spawnSync('sh', ['-c', 'ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1']).status === 0;
  } catch {
    return false;
  }
}

function ensureAptPackages() {
  const missing = config.aptPackages.filter((pkg) => !isInstalled(pkg));
  if (missing.length === 0) {
    log(`apt packages present: ${config.aptPackages.join(', ')}`);
    return;
  }
  if (process.getuid?.() !== 0) {
    throw new InstallError(`missing Debian packages ${missing.join(' ')}; as root run: apt-get install -y ${missing.join(' ')}`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { env });
  let updated = false;
  if (!hasPackageLists()) {
    if (run('apt-get', ['update', '-q'], { env }) !== 0) throw new InstallError('apt-get update failed');
    updated = true;
  }
  if (install() === 0) return;
  if (updated) throw new InstallError(`apt-get install ${missing.join(' ')} failed`);
  // Stale package lists are the usual cause (a security update replaced the listed version).
  if (run('apt-get', ['update', '-q'], { env }) !== 0) throw new InstallError('apt-get update failed');
  if (install() !== 0) throw new InstallError(`apt-get install ${missing.join(' ')} failed`);
}

/** `code-server --version` with a throwaway HOME: it writes into $HOME even for --version. */
function installedVersion(scratch) {
  const home = mkdtempSync(join(scratch, 'home-'));
  const result = spawnSync(process.execPath, [entry, '--version'], {
    encoding: 'utf8',
    env: {
      ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local/share'),
      XDG_CACHE_HOME: join(home, '.cache'), TMPDIR: scratch,
    },
  });
  // First run prints an "info  Wrote default config file" line before the version line.
  const line = result.stdout.split('\n').find((l) => /^\d+\.\d+\.\d+ /.test(l));
  return result.status === 0 && line ? line.trim() : `failed (${result.status}): ${result.stdout}${result.stderr}`.trim();
}

function installCodeServer() {
  if (existsSync(marker) && existsSync(entry) && readFileSync(marker, 'utf8').split('\n')[0] === version) {
    log(`code-server ${version} present in ${installDir}`);
    return;
  }
  const rg = spawnSync('sh', ['-c', 'command -v rg'], { encoding: 'utf8' }).stdout.trim();
  if (!rg) throw new InstallError('ripgrep (rg) is not on PATH although the apt step passed');

  log(`installing code-server ${version} into ${installDir} (first time ≈ 1.5–2 min)`);
  rmSync(join(installDir, 'node_modules'), { recursive: true, force: true });
  rmSync(marker, { force: true });
  mkdirSync(installDir, { recursive: true });
  writeFileSync(
    join(installDir, 'package.json'),
    `${JSON.stringify({ name: 'glk-code-server', private: true, dependencies: { 'code-server': version }, allowScripts }, null, 2)}\n`,
  );

  // A TMPDIR we own, pre-seeded so @vscode/ripgrep's postinstall finds its "download" cached.
  const scratch = mkdtempSync(join(installDir, '.tmp-'));
  try {
    const rgCache = join(scratch, config.ripgrepCache.folder);
    mkdirSync(rgCache);
    if (run('tar', ['-czf', join(rgCache, config.ripgrepCache.archive), '-C', dirname(rg), 'rg']) !== 0) {
      throw new InstallError('could not pack rg for the ripgrep cache');
    }
    const env = {
      ...process.env,
      TMPDIR: scratch,
      npm_config_unsafe_perm: 'true', // code-server's postinstall refuses root otherwise
      npm_config_yes: 'true', // node-pty's postinstall runs `npx node-gyp`, which aborts on yes=false
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      npm_config_update_notifier: 'false',
    };
    // node-gyp would download Node's headers; use the installed ones when Node ships them.
    const prefix = resolve(dirname(process.execPath), '..');
    if (!env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node.h'))) env.npm_config_nodedir = prefix;
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    if (run(npm, ['install', '--no-save', '--loglevel=warn'], { cwd: installDir, env }) !== 0) {
      throw new InstallError(`npm install code-server@${version} failed (see the output above)`);
    }
    if (!existsSync(entry)) throw new InstallError(`npm install finished but ${entry} is missing`);
    const reported = installedVersion(scratch);
    if (!reported.startsWith(version)) throw new InstallError(`code-server --version: ${reported}`);
    writeFileSync(marker, `${version}\ninstalled ${new Date().toISOString()}\n`);
    log(`code-server ${reported} installed`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Test files running in parallel may each call this script on a clean machine: one installs, the
 * others wait for it (then find the marker). A lock left by a dead process is taken over.
 */
async function withInstallLock(work) {
  const lock = `${installDir}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  let announced = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const owner = lockOwner(lock);
      // No pid yet: the owner is between mkdir and write, or died there (then the lock grows old).
      const stale = owner ? !isAlive(owner) : Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? 0) > 30_000;
      if (stale) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (!announced) log(`another install (pid ${owner || '?'}) holds ${lock}; waiting`);
      announced = true;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function lockOwner(lock) {
  try {
    return Number(readFileSync(join(lock, 'pid'), 'utf8')) || 0;
  } catch {
    return 0;
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

const started = Date.now();
try {
  await withInstallLock(() => {
    ensureAptPackages();
    installCodeServer();
  });
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (error) {
  console.error(`[vscode-e2e install] FAILED: ${error instanceof InstallError ? error.message : error?.stack ?? error}`);
  process.exit(1);
}
