/**
 * A text pipeline turns one text into token ids (no template): added tokens, normalizer,
 * pre-tokenizer, model. Two implementations: BertPipeline (bert.ts), BERT's normalizer,
 * pre-tokenizer and WordPiece fused into one pass, and ComposedPipeline (composed.ts), any
 * chain of components. The pipeline owns the id buffer the Tokenizer packs from.
 */
import { IdBuffer } from './ids';

export abstract class TextPipeline extends IdBuffer {
  /** While Tokenizer.tokenize runs: position in out -> the text an added token matched. */
  addedText: Map<number, string> | null = null;

  /** Split log (left truncation): where each pre-token's ids start, and whether it is an added token. */
  private logStarts: Int32Array | null = null;
  private logAdded = new Uint8Array(0);
  splitCount = 0;

  /**
   * Append the ids of `text` (no template) at n. Tokenization stops after the first split
   * (pre-token) that brings n to `limit` or more. `soft` is HF's own early stop under
   * truncation (tokenize_with_limit): only model splits can stop it, added tokens never do,
   * and the caller does not cut to the limit. Otherwise (hard) an added token can stop it too
   * and the caller cuts n to the limit: the same ids as tokenizing everything and truncating.
   */
  abstract tokenizeText(text: string, limit: number, soft: boolean): void;

  /** The normalized form of an added token's content (how HF stores a normalized one). */
  abstract normalizeContent(s: string): string;

  /** The id of a model-vocabulary token, or -1. */
  abstract modelTokenToId(token: string): number;

  /** Every (token, id) of the model vocabulary. */
  abstract forEachModelToken(fn: (token: string, id: number) => void): void;

  /** Start recording split boundaries (see splitStart / splitIsAdded). */
  startSplitLog(): void {
    this.logStarts ??= new Int32Array(256);
    this.splitCount = 0;
  }

  stopSplitLog(): void {
    this.logStarts = null;
    if (this.logAdded.length > 1 << 16) this.logAdded = new Uint8Array(0);
  }

  splitStart(k: number): number {
    return this.logStarts![k];
  }

  splitIsAdded(k: number): boolean {
    return this.logAdded[k] === 1;
  }

  /** Called by implementations before writing the ids of each split. */
  protected markSplit(added: boolean): void {
    const starts = this.logStarts;
    if (starts === null) return;
    if (this.splitCount === starts.length || this.logAdded.length < starts.length) {
      const grown = new Int32Array(Math.max(256, starts.length * 2));
      grown.set(starts);
      this.logStarts = grown;
      const a = new Uint8Array(grown.length);
      a.set(this.logAdded.subarray(0, Math.min(this.logAdded.length, a.length)));
      this.logAdded = a;
    }
    this.logStarts![this.splitCount] = this.n;
    this.logAdded[this.splitCount++] = added ? 1 : 0;
  }

  /** True when split logging is on (hot paths check it before calling markSplit). */
  protected get logging(): boolean {
    return this.logStarts !== null;
  }
}
