// Reads the text chunks SaveImage writes into its PNGs (keyword "workflow"), in the browser.

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/** tEXt chunks and uncompressed iTXt chunks: keyword → text. Throws on a file that is not a PNG. */
export function readPngText(bytes: Uint8Array): Record<string, string> {
  if (!isPng(bytes)) throw new Error('not a PNG file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const latin1 = new TextDecoder('latin1');
  const utf8 = new TextDecoder('utf-8');
  const out: Record<string, string> = {};
  let offset = 8;
  while (offset + 8 <= bytes.length) {
    const length = view.getUint32(offset);
    const type = latin1.decode(bytes.subarray(offset + 4, offset + 8));
    const start = offset + 8;
    const end = start + length;
    if (end + 4 > bytes.length) throw new Error('truncated PNG chunk');
    const data = bytes.subarray(start, end);
    const nul = data.indexOf(0);
    if (type === 'tEXt' && nul > 0) {
      out[latin1.decode(data.subarray(0, nul))] = latin1.decode(data.subarray(nul + 1));
    } else if (type === 'iTXt' && nul > 0 && data[nul + 1] === 0) {
      const langEnd = data.indexOf(0, nul + 3);
      const keyEnd = langEnd < 0 ? -1 : data.indexOf(0, langEnd + 1);
      if (keyEnd >= 0) out[latin1.decode(data.subarray(0, nul))] = utf8.decode(data.subarray(keyEnd + 1));
    }
    if (type === 'IEND') return out;
    offset = end + 4;
  }
  throw new Error('truncated PNG (no IEND chunk)');
}
