/**
 * What a model folder is, without creating an engine: the family and tokenizer it would run with,
 * its shape, pooling and output. `sbert info --model NAME` prints it; a user checks here whether
 * (and how) a model they have loads before they deploy it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { HubOptions } from './hub';
import { resolveModelFolder } from './model-source';
import type { Tokenizer } from './tokenizer';
import { loadCrossEncoderFolder, loadModelFolder, type EncoderConfig } from './weights';

/** The description {@link describeModel} gives. */
export interface ModelInfo {
  /** Absolute model folder. */
  dir: string;
  /** 'bi-encoder' (SentenceEncoder) or 'cross-encoder' (a sequence-classification folder, CrossEncoder). */
  kind: 'bi-encoder' | 'cross-encoder';
  /** The engine's family ('bert', 'roberta', 'mpnet', 'distilbert') and config.json's model_type. */
  family: EncoderConfig['family'];
  modelType: string;
  /** How positions are numbered: 'absolute' (from 0), 'after padding' (RoBERTa family), plus MPNet's relative bias or DistilBERT's fixed sinusoids. */
  positions: string;
  layers: number;
  hiddenSize: number;
  heads: number;
  intermediateSize: number;
  tokenTypes: number;
  tokenizer: {
    /** The tokenization model: 'WordPiece', 'Unigram' (SentencePiece) or 'BPE' (byte-level when its pre-tokenizer is ByteLevel). */
    model: string;
    byteLevel: boolean;
    vocabSize: number;
    /** The normalizer chain's types, outermost first (e.g. ['Precompiled'], ['BertNormalizer']). */
    normalizers: string[];
  };
  /** Sequences (bi-encoder) or pairs (cross-encoder) are truncated to this many tokens. */
  maxSeqLength: number;
  /** Bi-encoders: the pooling modes and the module chain; cross-encoders: the head's labels and activation. */
  pooling?: string[];
  modules?: string[];
  /** Length of a sentence embedding (bi-encoder) or logits per pair (cross-encoder). */
  outputDimension: number;
  labels?: string[];
  activation?: string;
}

/** Whether `dir` holds a Hugging Face sequence-classification model rather than an encoder. */
async function isSequenceClassifier(dir: string): Promise<boolean> {
  let config: unknown;
  try {
    config = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8'));
  } catch {
    return false; // no readable config.json: the bi-encoder loader names the problem
  }
  const archs = (config as { architectures?: unknown }).architectures;
  if (!Array.isArray(archs) || !archs.some((a) => typeof a === 'string' && a.endsWith('ForSequenceClassification'))) return false;
  try {
    await readFile(path.join(dir, 'modules.json'));
    return false; // a sentence-transformers folder whose body was saved from a classifier
  } catch {
    return true;
  }
}

function positionsOf(c: EncoderConfig): string {
  const base = c.positionIds === 'after_padding' ? `after padding (from ${c.paddingIdx + 1})` : 'absolute (from 0)';
  if (c.sinusoidalPositions) return `${base}, fixed sinusoidal table`;
  if (c.relativeAttentionBuckets > 0) return `${base} + relative attention bias (${c.relativeAttentionBuckets} buckets, max distance ${c.relativeAttentionMaxDistance})`;
  return base;
}

function tokenizerInfo(t: Tokenizer): ModelInfo['tokenizer'] {
  const spec = t.spec;
  const normalizers: string[] = [];
  const walk = (n: typeof spec.normalizer): void => {
    if (n === null) return;
    if (n.type === 'Sequence') n.normalizers.forEach(walk);
    else normalizers.push(n.type);
  };
  walk(spec.normalizer);
  const preTypes: string[] = [];
  const walkPre = (p: typeof spec.preTokenizer): void => {
    if (p === null) return;
    if (p.type === 'Sequence') p.pretokenizers.forEach(walkPre);
    else preTypes.push(p.type);
  };
  walkPre(spec.preTokenizer);
  return { model: spec.model.type, byteLevel: preTypes.includes('ByteLevel'), vocabSize: t.vocabSize, normalizers };
}

function shapeOf(c: EncoderConfig): Pick<ModelInfo, 'family' | 'modelType' | 'positions' | 'layers' | 'hiddenSize' | 'heads' | 'intermediateSize' | 'tokenTypes'> {
  return {
    family: c.family,
    modelType: c.modelType,
    positions: positionsOf(c),
    layers: c.numHiddenLayers,
    hiddenSize: c.hiddenSize,
    heads: c.numAttentionHeads,
    intermediateSize: c.intermediateSize,
    tokenTypes: c.typeVocabSize,
  };
}

/**
 * Describes a model (a folder, 'default', or a Hub id — fetched into the shared cache like
 * SentenceEncoder.load) as the engine would run it, reading its configs, tokenizer and weight
 * headers only. Rejects with ERR_BAD_MODEL, naming the file, for a model that would not load.
 */
export async function describeModel(name: string | undefined, hub: HubOptions = {}): Promise<ModelInfo> {
  const dir = await resolveModelFolder(name, hub);
  if (await isSequenceClassifier(dir)) {
    const f = await loadCrossEncoderFolder(dir, { lazyWeights: true });
    return {
      dir: f.dir, kind: 'cross-encoder', ...shapeOf(f.config), tokenizer: tokenizerInfo(f.tokenizer),
      maxSeqLength: f.maxLength, outputDimension: f.numLabels, labels: f.labels, activation: f.activation,
    };
  }
  const f = await loadModelFolder(dir, { lazyWeights: true });
  const pooling = f.modules.flatMap((m) => (m.type === 'pooling' ? m.modes : []));
  return {
    dir: f.dir, kind: 'bi-encoder', ...shapeOf(f.config), tokenizer: tokenizerInfo(f.tokenizer),
    maxSeqLength: f.maxSeqLength, pooling, modules: f.modules.map((m) => m.type), outputDimension: f.outputDimension,
  };
}
