/** ByteLevel normalizer: the text's UTF-8 bytes as GPT-2 byte characters (bytes.ts). */
import { byteLevelString } from '../bytes';
import { Normalizer, charwiseLead } from './normalizer';

/** ByteLevel normalizer. */
export class ByteLevelNormalizer implements Normalizer {
  normalize(s: string): string {
    return byteLevelString(s);
  }
  lead(before: string, lead: number): number {
    return charwiseLead(this, before, lead);
  }
}
