/** The model families the engine runs, by name and by config.json model_type. */
import type { ModelFamily } from '../config';
import { BERT, ROBERTA } from './bert';
import { DISTILBERT } from './distilbert';
import type { EncoderFamilyDefinition } from './layout';
import { MPNET } from './mpnet';

export const FAMILIES: Readonly<Record<ModelFamily, EncoderFamilyDefinition>> = {
  bert: BERT,
  roberta: ROBERTA,
  mpnet: MPNET,
  distilbert: DISTILBERT,
};

/** Every model_type value config.json may have. */
export const SUPPORTED_MODEL_TYPES: readonly string[] = Object.values(FAMILIES).flatMap((f) => f.modelTypes);

/** The family a config.json model_type belongs to, or undefined. */
export function familyOfModelType(modelType: string): ModelFamily | undefined {
  for (const [name, f] of Object.entries(FAMILIES) as [ModelFamily, EncoderFamilyDefinition][]) {
    if (f.modelTypes.includes(modelType)) return name;
  }
  return undefined;
}

export { expectedTensors, type ClassificationHead, type EncoderTensorNames, type ExpectedTensor, type LayerTensorNames, type TensorRole } from './layout';
export { sinusoidalPositionTable } from './distilbert';
