/** Pre-tokenizer Sequence: each pre-tokenizer over all the pieces of the previous one. */
import type { PreTokenizer } from './pre-tokenizer';

/** Pre-tokenizer Sequence. */
export class SequencePreTokenizer implements PreTokenizer {
  constructor(private readonly parts: PreTokenizer[]) {}

  run(input: string[], inLeads: number[] | null, output: string[], outLeads: number[] | null): void {
    if (this.parts.length === 0) {
      for (let i = 0; i < input.length; i++) {
        output.push(input[i]);
        if (outLeads !== null) outLeads.push(inLeads![i]);
      }
      return;
    }
    let cur = input;
    let curLeads = inLeads;
    for (let k = 0; k < this.parts.length; k++) {
      const last = k === this.parts.length - 1;
      const next = last ? output : [];
      const nextLeads = last ? outLeads : outLeads === null ? null : [];
      this.parts[k].run(cur, curLeads, next, nextLeads);
      cur = next;
      curLeads = nextLeads;
    }
  }
}
