/**
 * The native trainer as the training sessions use it (TrainingSession for bi-encoders,
 * CrossEncoderTrainingSession): created from a model plan, each call made with the caller's stack
 * on its errors, eval-mode outputs cut into native calls at a token budget, ERR_DISPOSED after
 * dispose(). One place, so both sessions call the trainer the same way.
 */
import { SbertError } from '../errors';
import { native, withCallerStack, type NativeModelSpec, type NativeTrainer, type NativeTrainerOptions, type NativeTrainStep } from '../native';
import { cutAtBudget, slicePacked, type PackedIds } from '../token-budget';
import type { NamedParameter } from './save';

/** A native trainer and the calls the sessions make on it (see the file comment). */
export class TrainerCalls {
  private trainer: NativeTrainer | undefined;

  private constructor(trainer: NativeTrainer) {
    this.trainer = trainer;
  }

  /** Creates the native trainer for `spec` (its weights are upcast to fp32 master copies). */
  static async create(spec: NativeModelSpec, options: NativeTrainerOptions): Promise<TrainerCalls> {
    const stack = new Error().stack;
    try {
      return new TrainerCalls(await native().createTrainer(spec, options));
    } catch (err) {
      throw withCallerStack(err, stack);
    }
  }

  /** Values per sequence of the model's output (the sentence embedding's length, or a head's labels). */
  get width(): number {
    return this.live().sentenceDim;
  }

  private live(): NativeTrainer {
    const t = this.trainer;
    if (!t || t.disposed) throw new SbertError('ERR_DISPOSED', 'the training session has been disposed');
    return t;
  }

  /** One optimizer step (see NativeTrainer.step). */
  async step(batch: NativeTrainStep): Promise<{ loss: number; gradNorm: number }> {
    const trainer = this.live();
    const stack = new Error().stack;
    try {
      return await trainer.step(batch);
    } catch (err) {
      throw withCallerStack(err, stack);
    }
  }

  /**
   * Eval-mode outputs of the `count` sequences of `packed` with the current weights, [count,
   * width], in native calls of at most `budget` tokens (at least one sequence each).
   */
  async encode(packed: PackedIds, count: number, budget: number): Promise<Float32Array> {
    const trainer = this.live();
    const width = trainer.sentenceDim;
    const out = new Float32Array(count * width);
    const stack = new Error().stack;
    for (let start = 0; start < count; ) {
      const end = cutAtBudget(packed.cuSeqlens, start, count, budget);
      try {
        out.set(await trainer.encode(slicePacked(packed, start, end)), start * width);
      } catch (err) {
        throw withCallerStack(err, stack);
      }
      start = end;
    }
    return out;
  }

  /** A snapshot of the model parameters (canonical names, fp32). */
  async parameters(): Promise<NamedParameter[]> {
    return this.live().parameters();
  }

  /** Frees the native trainer (idempotent). */
  dispose(): void {
    this.trainer?.dispose();
    this.trainer = undefined;
  }
}
