/**
 * Reading a zip (a .vsix) from its central directory, enough for tests to check what a package holds: its entry
 * names and one entry's text (stored or deflated).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

interface Entry {
  name: string;
  method: number;
  compressedSize: number;
  localHeader: number;
}

function entries(file: string): { zip: Buffer; entries: Entry[] } {
  const zip = readFileSync(file);
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06])); // end of central directory
  assert.ok(end >= 0, `${file} is not a zip`);
  const count = zip.readUInt16LE(end + 10);
  const list: Entry[] = [];
  for (let i = 0, at = zip.readUInt32LE(end + 16); i < count; i++) {
    assert.equal(zip.readUInt32LE(at), 0x02014b50, `${file}: bad central directory entry ${i}`);
    const [nameLength, extraLength, commentLength] = [zip.readUInt16LE(at + 28), zip.readUInt16LE(at + 30), zip.readUInt16LE(at + 32)];
    list.push({
      name: zip.toString('utf8', at + 46, at + 46 + nameLength),
      method: zip.readUInt16LE(at + 10),
      compressedSize: zip.readUInt32LE(at + 20),
      localHeader: zip.readUInt32LE(at + 42),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return { zip, entries: list };
}

/** The file names in a zip. */
export function zipEntries(file: string): string[] {
  return entries(file).entries.map((e) => e.name);
}

/** One entry's content as UTF-8 text. */
export function zipText(file: string, name: string): string {
  const { zip, entries: list } = entries(file);
  const entry = list.find((e) => e.name === name);
  assert.ok(entry, `${file} has no ${name}`);
  const at = entry.localHeader;
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  const data = zip.subarray(start, start + entry.compressedSize);
  assert.ok(entry.method === 0 || entry.method === 8, `${name}: compression method ${entry.method}`);
  return (entry.method === 8 ? inflateRawSync(data) : data).toString('utf8');
}
