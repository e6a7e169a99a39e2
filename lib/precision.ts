/**
 * The precisions an engine computes in (the `precision` load option and `--precision`), in one
 * place that loads nothing else, so argument checks never pull in the encoder or the addon.
 */

/**
 * The precision an engine computes the encoder's Linear layers in: on a GPU 'fp16' (default),
 * 'bf16' or 'fp32' storage with fp32 accumulation; on the CPU 'fp32' (default), 'int8' or 'bf16'.
 */
export type Precision = 'fp16' | 'bf16' | 'fp32' | 'int8';

/** Every {@link Precision}. Which ones a device runs is the engine's to say (ERR_UNSUPPORTED). */
export const PRECISIONS: readonly Precision[] = ['fp32', 'int8', 'bf16', 'fp16'];

/** Whether `v` is one of {@link PRECISIONS}. */
export function isPrecision(v: unknown): v is Precision {
  return (PRECISIONS as readonly unknown[]).includes(v);
}
