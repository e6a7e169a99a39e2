// A minimal ZIP writer for crafted archives (torch.save checkpoints, zip bombs): stored or
// deflated entries; an entry may also be given as { body, size, method } — bytes already
// compressed and the uncompressed size the directory should declare, true or not.
'use strict';
const zlib = require('node:zlib');

/**
 * @param {Record<string, string | Uint8Array | { body: Uint8Array, size: number, method: number }>} entries
 * @param {{ deflate?: boolean }} [options] deflate plain entries (default: store them)
 * @returns {Buffer}
 */
function zip(entries, { deflate = false } = {}) {
  const locals = [];
  const central = [];
  let offset = 0;
  for (const [name, content] of Object.entries(entries)) {
    let body, size, method, crc;
    if (content && content.body !== undefined) {
      ({ body, size, method } = content);
      crc = 0;
    } else {
      const data = Buffer.from(content);
      body = deflate ? zlib.deflateRawSync(data) : data;
      size = data.length;
      method = deflate ? 8 : 0;
      crc = zlib.crc32 ? zlib.crc32(data) : 0;
    }
    const nameBuf = Buffer.from(name);
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0);
    head.writeUInt16LE(method, 8);
    head.writeUInt32LE(crc, 14);
    head.writeUInt32LE(body.length, 18);
    head.writeUInt32LE(Math.min(size, 0xffffffff), 22);
    head.writeUInt16LE(nameBuf.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(method, 10);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(body.length, 20);
    cd.writeUInt32LE(Math.min(size, 0xffffffff), 24);
    cd.writeUInt16LE(nameBuf.length, 28);
    cd.writeUInt32LE(offset, 42);
    locals.push(head, nameBuf, body);
    central.push(cd, nameBuf);
    offset += 30 + nameBuf.length + body.length;
  }
  const cdBuf = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(entries).length, 8);
  end.writeUInt16LE(Object.keys(entries).length, 10);
  end.writeUInt32LE(cdBuf.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cdBuf, end]);
}

/**
 * A raw deflate stream of `mib` MiB of zero bytes, built without ever holding them: one
 * fully flushed block of 1 MiB of zeros (independent of what precedes it) repeated, then an
 * empty final block. 3072 MiB take ~3 MB.
 */
function zeroBombDeflate(mib) {
  const block = zlib.deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: zlib.constants.Z_FULL_FLUSH });
  const finalEmptyBlock = Buffer.from([0x03, 0x00]); // BFINAL=1, fixed Huffman, end-of-block
  return Buffer.concat([...new Array(mib).fill(block), finalEmptyBlock]);
}

module.exports = { zip, zeroBombDeflate };
