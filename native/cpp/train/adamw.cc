// torch.optim.AdamW, clip_grad_norm_ and the linear warm-up schedule (see adamw.h).
#include "train/adamw.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "common/error.h"

namespace sbert {
namespace {

// The decimal a float hyper-parameter was written as (0.9f → 0.9, not 0.89999997615814): torch
// keeps betas and eps as Python doubles, and 1 − β^t differs in the 7th digit otherwise.
double intendedDecimal(float x) {
  char buf[32];
  for (int digits = 1; digits <= 9; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, double(x));
    if (std::strtof(buf, nullptr) == x) return std::strtod(buf, nullptr);
  }
  return double(x);
}

}  // namespace

AdamW::AdamW(std::vector<ParamBuffer*> params, float beta1, float beta2, float eps,
             float weightDecay)
    : params_(std::move(params)),
      beta1_(intendedDecimal(beta1)),
      beta2_(intendedDecimal(beta2)),
      eps_(intendedDecimal(eps)),
      weightDecay_(intendedDecimal(weightDecay)) {
  SBERT_CHECK(beta1_ >= 0 && beta1_ < 1, "ERR_OUT_OF_RANGE", "beta1 must be in [0, 1)");
  SBERT_CHECK(beta2_ >= 0 && beta2_ < 1, "ERR_OUT_OF_RANGE", "beta2 must be in [0, 1)");
  SBERT_CHECK(eps_ > 0, "ERR_OUT_OF_RANGE", "eps must be positive");
  SBERT_CHECK(weightDecay_ >= 0, "ERR_OUT_OF_RANGE", "weightDecay must be non-negative");
  for (ParamBuffer* p : params_) {
    SBERT_CHECK(p != nullptr && p->grad.size() == p->value.size(), "ERR_INTERNAL",
                "every optimized parameter needs a grad of its value's size");
    expAvg_.emplace_back(p->value.size(), 0.f);
    expAvgSq_.emplace_back(p->value.size(), 0.f);
  }
}

double AdamW::clipGradNorm(double maxNorm) {
  // torch sums the squares of each parameter's norm: the same total up to rounding.
  double sumSq = 0;
  for (const ParamBuffer* p : params_)
    for (float g : p->grad) sumSq += double(g) * double(g);
  const double total = std::sqrt(sumSq);
  const double coef = maxNorm / (total + 1e-6);
  if (coef < 1.0) {
    for (ParamBuffer* p : params_)
      for (float& g : p->grad) g = static_cast<float>(double(g) * coef);
  }
  return total;
}

void AdamW::step(double lr) {
  ++step_;
  const double bias1 = 1.0 - std::pow(beta1_, double(step_));
  const double bias2Sqrt = std::sqrt(1.0 - std::pow(beta2_, double(step_)));
  const double stepSize = lr / bias1;
  for (size_t k = 0; k < params_.size(); ++k) {
    ParamBuffer& p = *params_[k];
    float* m = expAvg_[k].data();
    float* v = expAvgSq_[k].data();
    const double decay = 1.0 - lr * (p.weightDecay ? weightDecay_ : 0.0);
    const size_t n = p.value.size();
    for (size_t i = 0; i < n; ++i) {
      const double g = p.grad[i];
      const double mi = beta1_ * m[i] + (1.0 - beta1_) * g;
      const double vi = beta2_ * v[i] + (1.0 - beta2_) * g * g;
      // The moments are fp32 state, as torch's; the update reads them back rounded.
      m[i] = static_cast<float>(mi);
      v[i] = static_cast<float>(vi);
      const double denom = std::sqrt(double(v[i])) / bias2Sqrt + eps_;
      p.value[i] = static_cast<float>(double(p.value[i]) * decay - stepSize * double(m[i]) / denom);
    }
  }
}

double linearWarmupLr(double baseLr, int64_t step, int64_t warmupSteps, int64_t totalSteps) {
  if (step < warmupSteps) return baseLr * double(step) / double(std::max<int64_t>(1, warmupSteps));
  const double remaining = double(totalSteps - step) /
                           double(std::max<int64_t>(1, totalSteps - warmupSteps));
  return baseLr * std::max(0.0, remaining);
}

}  // namespace sbert
