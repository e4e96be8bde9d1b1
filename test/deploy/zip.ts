import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

export type ZipEntry = { name: string; method: number; compressedSize: number; size: number; offset: number };

export type ZipFile = {
  entries: ZipEntry[];
  names: string[];
  /** Content of the named entry; throws when absent. */
  read(name: string): Buffer;
};

/** Reads a zip through its central directory (no zip64, as scripts/package.mjs writes). */
export function readZip(file: string): ZipFile {
  const buf = readFileSync(file);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd === -1) throw new Error(`${file}: not a zip (no end of central directory)`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${n}`);
    const nameLength = buf.readUInt16LE(p + 28);
    entries.push({
      method: buf.readUInt16LE(p + 10),
      compressedSize: buf.readUInt32LE(p + 20),
      size: buf.readUInt32LE(p + 24),
      offset: buf.readUInt32LE(p + 42),
      name: buf.toString('utf8', p + 46, p + 46 + nameLength),
    });
    p += 46 + nameLength + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
  }
  const byName = new Map(entries.map((e) => [e.name, e]));
  return {
    entries,
    names: entries.map((e) => e.name),
    read(name: string): Buffer {
      const entry = byName.get(name);
      if (!entry) throw new Error(`${file}: no entry ${name}`);
      const q = entry.offset;
      if (buf.readUInt32LE(q) !== 0x04034b50) throw new Error(`${file}: bad local header for ${name}`);
      const start = q + 30 + buf.readUInt16LE(q + 26) + buf.readUInt16LE(q + 28);
      const body = buf.subarray(start, start + entry.compressedSize);
      if (entry.method === 0) return Buffer.from(body);
      if (entry.method === 8) return inflateRawSync(body);
      throw new Error(`${file}: unsupported compression method ${entry.method} for ${name}`);
    },
  };
}
