// The optimizer side of training, matching what sentence-transformers' fit runs:
// torch.optim.AdamW, torch.nn.utils.clip_grad_norm_ and transformers'
// get_linear_schedule_with_warmup. Updates run in double per element and are stored in fp32.
#pragma once

#include <cstdint>
#include <vector>

#include "train/param_buffer.h"

namespace sbert {

class AdamW {
 public:
  // The optimizer keeps pointers to `params` (model parameters and the loss's own) and first /
  // second moment buffers of their sizes; ParamBuffer::weightDecay selects the group (decay or
  // 0). The buffers must outlive the optimizer and keep their sizes.
  AdamW(std::vector<ParamBuffer*> params, float beta1, float beta2, float eps, float weightDecay);

  // torch.nn.utils.clip_grad_norm_: total L2 norm over all params (returned, before
  // clipping); scales grads by maxNorm / (norm + 1e-6) when that is < 1.
  double clipGradNorm(double maxNorm);

  // Exactly torch.optim.AdamW (decoupled decay, bias correction): one step at learning rate lr.
  void step(double lr);

  int64_t stepCount() const { return step_; }

 private:
  std::vector<ParamBuffer*> params_;
  std::vector<std::vector<float>> expAvg_;
  std::vector<std::vector<float>> expAvgSq_;
  double beta1_, beta2_, eps_, weightDecay_;
  int64_t step_ = 0;
};

// transformers' get_linear_schedule_with_warmup: lr at optimizer step `step` (0-based)
double linearWarmupLr(double baseLr, int64_t step, int64_t warmupSteps, int64_t totalSteps);

}  // namespace sbert
