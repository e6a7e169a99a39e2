/**
 * Argument checks shared by the `sbert` subcommands, so every command refuses the same bad
 * value with the same message and exit code 2 before any work starts (a bad --device used to
 * surface as a stack trace from the engine after the model had loaded).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Device } from './encoder';
import { isPrecision, type Precision } from './precision';
import { isQuantizationPrecision, QUANTIZATION_PRECISIONS, type QuantizationPrecision } from './quantize';

/** A bad command line: the command prints the message and where its usage is, and exits 2. */
export class UsageError extends Error {}

/**
 * What every subcommand prints for a bad command line: one line saying what is wrong, one
 * saying where the usage is (never the whole usage text, which buries the error).
 */
export function usageErrorText(command: string | undefined, message: string): string {
  const name = command ? `sbert ${command}` : 'sbert';
  return `${name}: ${message}\nRun '${name} --help' for usage.\n`;
}

type Flags = NonNullable<ParseArgsConfig['options']>;
type FlagValues<F extends Flags> = ReturnType<typeof parseArgs<{ args: string[]; options: F; strict: true; allowPositionals: false }>>['values'];

/**
 * A subcommand's flags (no positionals, unknown flags refused), with parseArgs' own errors as
 * UsageError so every command reports them the same way.
 */
export function parseFlags<const F extends Flags>(argv: string[], options: F): FlagValues<F> {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** --device: auto | cpu | cuda | cuda:N. */
export function parseDevice(value: string | undefined, option = '--device'): Device {
  const device = value ?? 'auto';
  if (!/^(auto|cpu|cuda(:\d+)?)$/.test(device)) throw new UsageError(`${option} must be auto, cpu, cuda or cuda:N (got '${device}')`);
  return device as Device;
}

/**
 * --precision: fp32 | int8 | bf16 on the CPU, fp16 | bf16 | fp32 on a GPU (undefined when not
 * given: the device's default). Whether the device runs it is the engine's to say, at load.
 */
export function parsePrecision(value: string | undefined, option = '--precision'): Precision | undefined {
  if (value === undefined) return undefined;
  if (!isPrecision(value)) {
    throw new UsageError(`${option} must be fp32, int8 or bf16 (CPU), or fp16, bf16 or fp32 (GPU) (got '${value}')`);
  }
  return value;
}

/** --quantize: int8 | uint8 | binary | ubinary | float32 (undefined when not given). */
export function parseQuantize(value: string | undefined, option = '--quantize'): QuantizationPrecision | undefined {
  if (value === undefined) return undefined;
  if (!isQuantizationPrecision(value)) {
    const quantized = QUANTIZATION_PRECISIONS.filter((p) => p !== 'float32');
    throw new UsageError(`${option} must be ${quantized.join(', ')} or float32 (got '${value}')`);
  }
  return value;
}

/**
 * A positive integer written in plain decimal digits (undefined when not given). Number()
 * alone would also take '0x10', '1e3', ' 8' or '0b1'.
 */
export function parsePositiveInt(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${option} must be a positive integer in decimal digits (got '${value}')`);
  return n;
}
