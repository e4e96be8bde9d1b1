#!/usr/bin/env node
// npm run package
//
// Builds the deployable Function App package:
//
//   dist-package/app/       the package as a folder (azure.yaml `dist` points here)
//     host.json
//     package.json          the repo's package.json without scripts and devDependencies
//     package-lock.json     the repo's lock file less its dev-only entries: the exact tree below
//     .funcignore           present so azd ships node_modules as they are
//     dist/functions/**     compiled functions (package.json "main")
//     dist/shared/**        compiled shared code
//     console/**            the operations console's page, script and style, read at run time by getConsole
//     node_modules/**       production dependencies, installed by `npm ci` from the two files above
//   dist-package/app.zip    the same content as a zip (azd deploy --from-package, or any zip deploy)
//
// Nothing else from the repository goes in: no tests, no TypeScript sources, no
// dist/test, dist/host, dist/scripts, no dev dependencies. azure.yaml sets
// `remoteBuild: false`, so Azure runs exactly this; were anything to run `npm ci` on
// the package, the shipped lock file would resolve the very same tree.
//
// The zip is written with yazl (a small, dependency-light zip writer that runs on Node 20
// and has no install scripts) instead of a hand-written one. Entries are sorted and carry a
// fixed DOS timestamp and mode, so the same inputs give the same zip on any machine.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import yazl from 'yazl';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'dist-package');
const stageDir = path.join(outDir, 'app');
/** Where build() compiles: outside dist/ and outside what stageApp() clears. */
/**
 * PACKAGE_CLEAN_BUILD names a clean build made just before from tsconfig.build.json (the test run's global
 * setup compiles dist/ from scratch): it is packaged as it is, not compiled a second time, and left in place.
 */
const prebuilt = process.env.PACKAGE_CLEAN_BUILD ? path.resolve(process.env.PACKAGE_CLEAN_BUILD) : undefined;
const buildDir = prebuilt ?? path.join(os.tmpdir(), `project-invoice-integration-build-${process.pid}`);
const tscBin = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const zipPath = path.join(outDir, 'app.zip');

/** Compiled folders that belong in the package. Everything else under dist/ stays out. */
const COMPILED_DIRS = ['dist/functions', 'dist/shared'];
/** Folders of the repository shipped as they are: files the compiled code reads at run time. */
const STATIC_DIRS = ['console'];
/** Files that never ship from the compiled folders. */
const SKIP_COMPILED = [/\.map$/, /\.d\.ts$/, /\.tsbuildinfo$/, /\.(test|spec)\.[cm]?js$/, /(^|\/)__tests__\//];

class PackageError extends Error {}

/** Stops the packaging; main() reports it (after `finally` blocks have cleaned up). */
function fail(message) {
  throw new PackageError(message);
}

function run(command, args, cwd) {
  // npm is a .cmd shim on Windows, which needs a shell; node itself (an absolute path) does not.
  const shim = process.platform === 'win32' && !path.isAbsolute(command);
  const result = spawnSync(shim ? `${command}.cmd` : command, args, {
    cwd,
    stdio: 'inherit',
    shell: shim,
    env: process.env,
  });
  if (result.error) fail(`${command} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) fail(`${command} ${args.join(' ')} exited with ${result.status}`);
}

/** Files below dir (relative, forward slashes), following no symlinks. */
function listFiles(dir, base = dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full, base));
    else if (entry.isFile()) out.push(path.relative(base, full).split(path.sep).join('/'));
    // symlinks (node_modules/.bin) are left out on purpose
  }
  return out;
}

function copyFile(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
}

// ---------------------------------------------------------------------------
// zip
// ---------------------------------------------------------------------------

// Midnight, 1 January 1980, in local time: the DOS timestamp field holds local time, so
// a local date gives the same bytes in every time zone (the UTC "UT" field stays off).
const FIXED_MTIME = new Date(1980, 0, 1);

/** Writes a zip of the given files (names relative to baseDir) and resolves to its byte size. */
export function writeZip(baseDir, names, target) {
  const zip = new yazl.ZipFile();
  for (const name of names) {
    zip.addBuffer(fs.readFileSync(path.join(baseDir, name)), name, { mtime: FIXED_MTIME, mode: 0o100644, forceDosTimestamp: true });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const out = fs.createWriteStream(target);
    zip.outputStream
      .on('error', reject)
      .pipe(out)
      .on('error', reject)
      .on('close', () => resolve(fs.statSync(target).size));
  });
}

// ---------------------------------------------------------------------------
// steps
// ---------------------------------------------------------------------------

/**
 * Compiles from scratch into a folder of its own: an incremental build in dist/ keeps the
 * output of a deleted or renamed module (which would still register in Azure), and
 * emptying dist/ would pull it from under a local host or test that runs from it.
 */
function build() {
  if (prebuilt) {
    console.log(`package: the clean build in ${path.relative(root, prebuilt) || '.'} (PACKAGE_CLEAN_BUILD)`);
  } else {
    console.log('package: tsc (a clean build of its own)');
    fs.rmSync(buildDir, { recursive: true, force: true });
    run(
      process.execPath,
      [tscBin, '-p', 'tsconfig.build.json', '--outDir', buildDir, '--tsBuildInfoFile', path.join(buildDir, '.tsbuildinfo')],
      root,
    );
  }
  const functionsDir = path.join(buildDir, 'functions');
  if (!fs.existsSync(functionsDir) || !listFiles(functionsDir).some((f) => f.endsWith('.js'))) {
    fail('the build produced no functions/*.js (check tsconfig rootDir ".")');
  }
}

function stageApp() {
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(stageDir, { recursive: true });

  const hostJson = path.join(root, 'host.json');
  if (!fs.existsSync(hostJson)) fail('host.json is missing at the repository root');
  copyFile(hostJson, path.join(stageDir, 'host.json'));

  // package.json as the Functions host reads it ("main" finds the functions), without
  // scripts and devDependencies, and the lock file that pins every production package.
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  delete pkg.scripts;
  delete pkg.devDependencies;
  fs.writeFileSync(path.join(stageDir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  fs.writeFileSync(path.join(stageDir, 'package-lock.json'), `${JSON.stringify(productionLock(), null, 2)}\n`);

  for (const rel of COMPILED_DIRS) {
    const from = path.join(buildDir, path.relative('dist', rel));
    if (!fs.existsSync(from)) {
      if (rel === 'dist/functions') fail(`${rel} is missing`);
      continue;
    }
    for (const file of listFiles(from)) {
      if (SKIP_COMPILED.some((re) => re.test(file))) continue;
      copyFile(path.join(from, file), path.join(stageDir, rel, file));
    }
  }

  for (const rel of STATIC_DIRS) {
    for (const file of listFiles(path.join(root, rel))) copyFile(path.join(root, rel, file), path.join(stageDir, rel, file));
  }

  // azd zips this folder with the .funcignore it finds here; without one it would leave
  // node_modules out. (Whether Azure builds remotely is decided by azure.yaml's
  // remoteBuild and the project folder's .funcignore, not by this file.)
  fs.writeFileSync(path.join(stageDir, '.funcignore'), 'local.settings.json\n*.map\n');
}

/**
 * The repository's lock file without what only development needs, so that it agrees
 * with the shipped package.json (which has no devDependencies) and `npm ci` accepts it.
 */
function productionLock() {
  const lockPath = path.join(root, 'package-lock.json');
  if (!fs.existsSync(lockPath)) fail('package-lock.json is missing: the package is installed from it, so it must be committed');
  const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
  for (const [key, entry] of Object.entries(lock.packages ?? {})) if (entry.dev) delete lock.packages[key];
  if (lock.packages?.['']) delete lock.packages[''].devDependencies;
  return lock;
}

/** node_modules installed by `npm ci` from the package's own package.json and lock file. */
function installProductionDependencies() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pii-package-'));
  try {
    for (const file of ['package.json', 'package-lock.json']) copyFile(path.join(stageDir, file), path.join(tmp, file));
    console.log("package: npm ci --omit=dev --ignore-scripts from the package's own lock file (in a temporary folder)");
    run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], tmp);
    const modules = path.join(tmp, 'node_modules');
    if (fs.existsSync(modules)) {
      for (const file of listFiles(modules)) copyFile(path.join(modules, file), path.join(stageDir, 'node_modules', file));
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function zipApp() {
  const names = listFiles(stageDir).sort();
  const bytes = await writeZip(stageDir, names, zipPath);
  const mb = (bytes / (1024 * 1024)).toFixed(2);
  console.log(`package: ${path.relative(root, zipPath)} ${mb} MB (${bytes} bytes), ${names.length} files`);
}

async function main() {
  build();
  stageApp();
  if (!prebuilt) fs.rmSync(buildDir, { recursive: true, force: true });
  installProductionDependencies();
  await zipApp();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(`package: ${err instanceof PackageError ? err.message : (err?.stack ?? err)}`);
    process.exitCode = 1;
  });
}
