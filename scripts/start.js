#!/usr/bin/env node
// `npm start`: compile when a source is newer than the build, then run the local host.
const { execFileSync, spawn } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const entry = join(root, 'dist', 'host', 'main.js');

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

const sources = ['functions', 'shared', 'host'].map((d) => newestSource(join(root, d)));
const built = existsSync(entry) ? statSync(join(root, 'dist', '.tsbuildinfo')).mtimeMs : 0;
if (Math.max(...sources, statSync(join(root, 'tsconfig.json')).mtimeMs) > built) {
  console.log('Compiling…');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], {
    stdio: 'inherit',
    cwd: root,
  });
}
const host = spawn(process.execPath, [entry], { stdio: 'inherit', cwd: root });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => host.kill(signal));
host.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
