/**
 * SentencePiece's precompiled normalisation map (the `Precompiled` normalizer of T5's tokenizer.json:
 * `nmt_nfkc` compiled into a darts-clone double-array trie plus the replacement strings), applied exactly as
 * Hugging Face tokenizers applies it. @huggingface/tokenizers approximates the map with NFKC and a few
 * replacements, which differs for some characters (see docs/models.md).
 */
export class PrecompiledCharsmap {
  private readonly units: Uint32Array;
  private readonly normalized: Uint8Array;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();
  private readonly graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

  constructor(charsmap: Uint8Array) {
    if (charsmap.length === 0) {
      // an empty map changes nothing
      this.units = new Uint32Array(0);
      this.normalized = charsmap;
      return;
    }
    if (charsmap.length < 4) throw new Error('precompiled_charsmap is too short');
    const view = new DataView(charsmap.buffer, charsmap.byteOffset, charsmap.byteLength);
    const trieBytes = view.getUint32(0, true);
    if (trieBytes % 4 !== 0 || 4 + trieBytes > charsmap.length) {
      throw new Error('precompiled_charsmap has an invalid trie size');
    }
    this.units = new Uint32Array(trieBytes / 4);
    for (let i = 0; i < this.units.length; i++) this.units[i] = view.getUint32(4 + i * 4, true);
    this.normalized = charsmap.subarray(4 + trieBytes);
  }

  static fromBase64(text: string): PrecompiledCharsmap {
    return new PrecompiledCharsmap(Uint8Array.from(Buffer.from(text, 'base64')));
  }

  /** The replacement of the shortest key that is a prefix of `bytes` (as HF's transform takes results[0]). */
  private lookup(bytes: Uint8Array): string | undefined {
    const units = this.units;
    if (units.length === 0) return undefined;
    let pos = offset(units[0]);
    for (let i = 0; i < bytes.length; i++) {
      pos ^= bytes[i];
      const unit = units[pos];
      if (unit === undefined || label(unit) !== bytes[i]) return undefined;
      pos ^= offset(unit);
      if (hasLeaf(unit)) return this.stringAt(value(units[pos]));
    }
    return undefined;
  }

  private stringAt(index: number): string {
    let end = index;
    while (end < this.normalized.length && this.normalized[end] !== 0) end++;
    return this.decoder.decode(this.normalized.subarray(index, end));
  }

  private transform(text: string): string | undefined {
    return this.lookup(this.encoder.encode(text));
  }

  /**
   * Normalises text as tokenizers' Precompiled normalizer does: per grapheme cluster (shorter than 6 UTF-8
   * bytes) the whole cluster's replacement if it has one, else each character's own, else the character.
   */
  normalize(text: string): string {
    let out = '';
    for (const { segment } of this.graphemes.segment(text)) {
      if (this.encoder.encode(segment).length < 6) {
        const whole = this.transform(segment);
        if (whole !== undefined) {
          out += whole;
          continue;
        }
      }
      for (const char of segment) out += this.transform(char) ?? char;
    }
    return out;
  }
}

// darts-clone's unit layout
function hasLeaf(unit: number): boolean {
  return ((unit >>> 8) & 1) === 1;
}
function value(unit: number): number {
  return unit & 0x7fffffff;
}
function label(unit: number): number {
  return unit & 0x800000ff;
}
function offset(unit: number): number {
  return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
}
