/**
 * Training: fit() (bi-encoders) and fitCrossEncoder() (cross-encoders), their training
 * sessions, data readers and the model-folder writers. The
 * `sbert train` command (./cli) is loaded by lib/cli.ts only when it runs.
 */
export { fit, LOSS_NAMES } from './fit';
export type { FitOptions, FitResult, FitProgress, FitEvaluation, LossName, TrainingRunResult } from './fit';
export type { TrainingRunOptions, TrainingProgress } from './loop';
export { fitCrossEncoder } from './fit-cross-encoder';
export type { CrossEncoderFitOptions, CrossEncoderFitResult, CrossEncoderFitProgress, CrossEncoderEvaluation } from './fit-cross-encoder';
export { CrossEncoderTrainingSession, CROSS_ENCODER_LOSS_NAMES } from './cross-encoder-session';
export type { CrossEncoderLossName, CrossEncoderSessionOptions } from './cross-encoder-session';
export { saveCrossEncoderFolder } from './cross-encoder-save';
export { TrainingSession } from './session';
export type { SessionOptions } from './session';
export { readTrainingFile, loadStsbTrain, loadTrainingData, BUNDLED_TRAIN_SETS } from './data';
export type { TrainExample } from './data';
export { saveModelFolder } from './save';
export type { SaveDtype, NamedParameter } from './save';
export { linearWarmupLr, warmupStepsFor, epochOrder, SeededRandom } from './schedule';
