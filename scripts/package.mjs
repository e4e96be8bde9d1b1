#!/usr/bin/env node
// npm run package
//
// Builds the deployable Function App package:
//
//   dist-package/app/       the package as a folder (azure.yaml `dist` points here)
//     host.json
//     package.json          the repo's package.json without scripts and devDependencies
//     .funcignore           present so azd ships node_modules as they are
//     dist/functions/**     compiled functions (package.json "main")
//     dist/shared/**        compiled shared code
//     node_modules/**       production dependencies only (npm ci --omit=dev)
//   dist-package/app.zip    the same content as a zip (azd deploy --from-package, or any zip deploy)
//
// Nothing else from the repository goes in: no tests, no TypeScript sources, no
// dist/test, dist/host, dist/scripts, no dev dependencies.
//
// The zip is written by a small built-in writer (Node's zlib), so no `zip` binary and no
// extra dependency is needed. Entries are sorted and carry a fixed timestamp, so the same
// inputs give the same zip.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'dist-package');
const stageDir = path.join(outDir, 'app');
const zipPath = path.join(outDir, 'app.zip');

/** Compiled folders that belong in the package. Everything else under dist/ stays out. */
const COMPILED_DIRS = ['dist/functions', 'dist/shared'];
/** Files that never ship from the compiled folders. */
const SKIP_COMPILED = [/\.map$/, /\.d\.ts$/, /\.tsbuildinfo$/, /\.(test|spec)\.[cm]?js$/, /(^|\/)__tests__\//];

class PackageError extends Error {}

/** Stops the packaging; main() reports it (after `finally` blocks have cleaned up). */
function fail(message) {
  throw new PackageError(message);
}

function run(command, args, cwd) {
  const isWindows = process.platform === 'win32';
  const result = spawnSync(isWindows ? `${command}.cmd` : command, args, {
    cwd,
    stdio: 'inherit',
    shell: isWindows, // .cmd shims need a shell on Windows
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
// zip writer (store / deflate, no zip64: fine below 4 GiB and 65535 entries)
// ---------------------------------------------------------------------------

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// 1980-01-01 00:00:00 in DOS format: reproducible archives.
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

/** Writes a zip of the given files (names relative to baseDir) and returns its byte size. */
export function writeZip(baseDir, names, target) {
  if (names.length > 0xffff) throw new Error(`too many files for a zip without zip64: ${names.length}`);
  const fd = fs.openSync(target, 'w');
  const central = [];
  let offset = 0;
  const write = (buf) => {
    fs.writeSync(fd, buf);
    offset += buf.length;
  };
  try {
    for (const name of names) {
      const data = fs.readFileSync(path.join(baseDir, name));
      const deflated = deflateRawSync(data);
      const useDeflate = deflated.length < data.length;
      const body = useDeflate ? deflated : data;
      const crc = crc32(data);
      const nameBuf = Buffer.from(name, 'utf8');
      if (offset > 0xffffffff || body.length > 0xffffffff) throw new Error('package too large for a zip without zip64');

      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4); // version needed
      local.writeUInt16LE(0x0800, 6); // UTF-8 names
      local.writeUInt16LE(useDeflate ? 8 : 0, 8);
      local.writeUInt16LE(DOS_TIME, 10);
      local.writeUInt16LE(DOS_DATE, 12);
      local.writeUInt32LE(crc, 14);
      local.writeUInt32LE(body.length, 18);
      local.writeUInt32LE(data.length, 22);
      local.writeUInt16LE(nameBuf.length, 26);
      local.writeUInt16LE(0, 28);
      const localOffset = offset;
      write(local);
      write(nameBuf);
      write(body);

      const entry = Buffer.alloc(46);
      entry.writeUInt32LE(0x02014b50, 0);
      entry.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, 2.0
      entry.writeUInt16LE(20, 6);
      entry.writeUInt16LE(0x0800, 8);
      entry.writeUInt16LE(useDeflate ? 8 : 0, 10);
      entry.writeUInt16LE(DOS_TIME, 12);
      entry.writeUInt16LE(DOS_DATE, 14);
      entry.writeUInt32LE(crc, 16);
      entry.writeUInt32LE(body.length, 20);
      entry.writeUInt32LE(data.length, 24);
      entry.writeUInt16LE(nameBuf.length, 28);
      entry.writeUInt16LE(0, 30); // extra
      entry.writeUInt16LE(0, 32); // comment
      entry.writeUInt16LE(0, 34); // disk
      entry.writeUInt16LE(0, 36); // internal attributes
      entry.writeUInt32LE((0o100644 << 16) >>> 0, 38); // regular file, rw-r--r--
      entry.writeUInt32LE(localOffset, 42);
      central.push(entry, nameBuf);
    }
    const centralOffset = offset;
    const centralBuf = Buffer.concat(central);
    write(centralBuf);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(0, 4);
    end.writeUInt16LE(0, 6);
    end.writeUInt16LE(names.length, 8);
    end.writeUInt16LE(names.length, 10);
    end.writeUInt32LE(centralBuf.length, 12);
    end.writeUInt32LE(centralOffset, 16);
    end.writeUInt16LE(0, 20);
    write(end);
  } finally {
    fs.closeSync(fd);
  }
  return offset;
}

// ---------------------------------------------------------------------------
// steps
// ---------------------------------------------------------------------------

function build() {
  console.log('package: npm run build');
  run('npm', ['run', 'build'], root);
  const functionsDir = path.join(root, 'dist', 'functions');
  if (!fs.existsSync(functionsDir) || !listFiles(functionsDir).some((f) => f.endsWith('.js'))) {
    fail('the build produced no dist/functions/*.js (check tsconfig outDir "dist" and rootDir ".")');
  }
}

function stageApp() {
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(stageDir, { recursive: true });

  const hostJson = path.join(root, 'host.json');
  if (!fs.existsSync(hostJson)) fail('host.json is missing at the repository root');
  copyFile(hostJson, path.join(stageDir, 'host.json'));

  // package.json as the Functions host reads it ("main" finds the functions); without
  // scripts and devDependencies, so that a remote build (if a tool asks for one) can
  // only install production dependencies and has nothing to compile.
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  delete pkg.scripts;
  delete pkg.devDependencies;
  fs.writeFileSync(path.join(stageDir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);

  for (const rel of COMPILED_DIRS) {
    const from = path.join(root, rel);
    if (!fs.existsSync(from)) {
      if (rel === 'dist/functions') fail(`${rel} is missing`);
      continue;
    }
    for (const file of listFiles(from)) {
      if (SKIP_COMPILED.some((re) => re.test(file))) continue;
      copyFile(path.join(from, file), path.join(stageDir, rel, file));
    }
  }

  // With a .funcignore present, azd packages the folder as it is (node_modules
  // included) instead of excluding node_modules and asking for a remote build.
  fs.writeFileSync(path.join(stageDir, '.funcignore'), 'local.settings.json\n*.map\n');
}

function installProductionDependencies() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pii-package-'));
  try {
    copyFile(path.join(root, 'package.json'), path.join(tmp, 'package.json'));
    const lock = path.join(root, 'package-lock.json');
    const npmArgs = ['--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'];
    if (fs.existsSync(lock)) {
      copyFile(lock, path.join(tmp, 'package-lock.json'));
      console.log('package: npm ci --omit=dev --ignore-scripts (in a temporary folder)');
      run('npm', ['ci', ...npmArgs], tmp);
    } else {
      console.log('package: no package-lock.json; npm install --omit=dev --ignore-scripts (in a temporary folder)');
      run('npm', ['install', ...npmArgs], tmp);
    }
    const modules = path.join(tmp, 'node_modules');
    if (fs.existsSync(modules)) {
      for (const file of listFiles(modules)) copyFile(path.join(modules, file), path.join(stageDir, 'node_modules', file));
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function zipApp() {
  const names = listFiles(stageDir).sort();
  const bytes = writeZip(stageDir, names, zipPath);
  const mb = (bytes / (1024 * 1024)).toFixed(2);
  console.log(`package: ${path.relative(root, zipPath)} ${mb} MB (${bytes} bytes), ${names.length} files`);
}

function main() {
  build();
  stageApp();
  installProductionDependencies();
  zipApp();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (err) {
    console.error(`package: ${err instanceof PackageError ? err.message : (err?.stack ?? err)}`);
    process.exitCode = 1;
  }
}
