/** Training: fit(), the training session, data readers and the model-folder writer. */
export { fit, LOSS_NAMES } from './fit';
export type { FitOptions, FitResult, FitProgress, FitEvaluation, LossName } from './fit';
export { TrainingSession } from './session';
export type { SessionOptions } from './session';
export { readTrainingFile, loadStsbTrain, loadTrainingData, BUNDLED_TRAIN_SETS } from './data';
export type { TrainExample } from './data';
export { saveModelFolder } from './save';
export type { SaveDtype, NamedParameter } from './save';
export { linearWarmupLr, warmupStepsFor, epochOrder, SeededRandom } from './schedule';
export { runTrainCommand, TRAIN_USAGE } from './cli';
