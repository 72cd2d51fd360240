// A store-only ZIP writer (PKWARE APPNOTE 6.3.x, sections 4.3.7, 4.3.12, 4.3.16): the images are already
// compressed (1-bit PNG, G4 TIFF), so entries are stored as they are; UTF-8 names (flag bit 11), no ZIP64.

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 (IEEE 802.3, the ZIP checksum) of ``bytes``. */
export function crc32(bytes) {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function dosDateTime(date) {
  const time = (date.getHours() << 11) | (date.getMinutes() << 5) | (date.getSeconds() >> 1);
  const day = ((date.getFullYear() - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate();
  return [time, day];
}

function header(size, fields) {
  const view = new DataView(new ArrayBuffer(size));
  let at = 0;
  for (const [bytes, value] of fields) {
    if (bytes === 2) view.setUint16(at, value, true); else view.setUint32(at, value, true);
    at += bytes;
  }
  return new Uint8Array(view.buffer);
}

/** A ZIP Blob of ``entries`` ([{name, blob}]), stored without compression. */
export async function zipStore(entries, date = new Date()) {
  const [time, day] = dosDateTime(date);
  const parts = [];
  const central = [];
  let offset = 0;
  for (const { name, blob } of entries) {
    const nameBytes = new TextEncoder().encode(name);
    const data = new Uint8Array(await blob.arrayBuffer());
    const crc = crc32(data);
    const common = [[2, 20], [2, 0x0800], [2, 0], [2, time], [2, day], [4, crc], [4, data.length], [4, data.length],
      [2, nameBytes.length], [2, 0]];
    parts.push(header(30, [[4, 0x04034b50], ...common]), nameBytes, data);
    central.push(header(46, [[4, 0x02014b50], [2, 20], ...common, [2, 0], [2, 0], [2, 0], [4, 0], [4, offset]]), nameBytes);
    offset += 30 + nameBytes.length + data.length;
    if (offset > 0xffffffff) throw new Error("the ZIP would exceed 4 GiB: download fewer files at once");
  }
  const size = central.reduce((sum, part) => sum + part.length, 0);
  const end = header(22, [[4, 0x06054b50], [2, 0], [2, 0], [2, entries.length], [2, entries.length], [4, size],
    [4, offset], [2, 0]]);
  return new Blob([...parts, ...central, end], { type: "application/zip" });
}
