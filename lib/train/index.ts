/**
 * Training: fit(), the training session, data readers and the model-folder writer. The
 * `sbert train` command (./cli) is loaded by lib/cli.ts only when it runs.
 */
export { fit, LOSS_NAMES } from './fit';
export type { FitOptions, FitResult, FitProgress, FitEvaluation, LossName } from './fit';
export { TrainingSession } from './session';
export type { SessionOptions } from './session';
export { readTrainingFile, loadStsbTrain, loadTrainingData, BUNDLED_TRAIN_SETS } from './data';
export type { TrainExample } from './data';
export { saveModelFolder } from './save';
export type { SaveDtype, NamedParameter } from './save';
export { linearWarmupLr, warmupStepsFor, epochOrder, SeededRandom } from './schedule';
