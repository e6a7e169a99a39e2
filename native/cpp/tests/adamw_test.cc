// The optimizer (train/adamw.h) against a plain double-precision transcription of
// torch.optim.AdamW's single-tensor update, torch.nn.utils.clip_grad_norm_ and transformers'
// get_linear_schedule_with_warmup, plus hand-computed cases.
#include <cmath>
#include <random>
#include <vector>

#include "common/error.h"
#include "test_util.h"
#include "train/adamw.h"

using namespace sbert;
using sbert::test::Tally;

namespace {

ParamBuffer makeParam(std::mt19937& rng, const char* name, size_t n, bool decay) {
  ParamBuffer p;
  p.name = name;
  p.shape = {int64_t(n)};
  p.weightDecay = decay;
  p.value = sbert::test::randomVec(rng, n);
  p.grad.assign(n, 0.f);
  return p;
}

// torch/optim/adamw.py, _single_tensor_adamw, in double: decay, moments, bias corrections.
struct TorchAdamW {
  double beta1, beta2, eps, weightDecay;
  std::vector<double> value, m, v;
  int step = 0;
  void update(const std::vector<float>& grad, double lr, bool decays) {
    ++step;
    for (size_t i = 0; i < value.size(); ++i) {
      value[i] *= 1 - lr * (decays ? weightDecay : 0.0);
      m[i] = m[i] * beta1 + grad[i] * (1 - beta1);
      v[i] = v[i] * beta2 + double(grad[i]) * grad[i] * (1 - beta2);
      const double biasCorrection1 = 1 - std::pow(beta1, step);
      const double biasCorrection2 = 1 - std::pow(beta2, step);
      const double stepSize = lr / biasCorrection1;
      const double denom = std::sqrt(v[i]) / std::sqrt(biasCorrection2) + eps;
      value[i] += -stepSize * m[i] / denom;
    }
  }
};

double maxRelToRef(const std::vector<float>& got, const std::vector<double>& ref) {
  double err = 0;
  for (size_t i = 0; i < ref.size(); ++i)
    err = std::max(err, std::fabs(got[i] - ref[i]) / std::max(1e-3, std::fabs(ref[i])));
  return err;
}

}  // namespace

int main() {
  Tally t;
  std::mt19937 rng(7);

  // ---- AdamW over 12 steps, two decay groups, odd sizes, a schedule of learning rates --------
  {
    std::vector<ParamBuffer> params;
    params.push_back(makeParam(rng, "w", 37, true));
    params.push_back(makeParam(rng, "b", 5, false));
    params.push_back(makeParam(rng, "ln", 1, false));
    std::vector<ParamBuffer*> ptrs;
    for (auto& p : params) ptrs.push_back(&p);
    AdamW opt(ptrs, 0.9f, 0.999f, 1e-6f, 0.01f);
    std::vector<TorchAdamW> ref;
    for (auto& p : params) {
      TorchAdamW r{0.9, 0.999, 1e-6, 0.01};
      r.value.assign(p.value.begin(), p.value.end());
      r.m.assign(p.value.size(), 0.0);
      r.v.assign(p.value.size(), 0.0);
      ref.push_back(r);
    }
    double worst = 0;
    for (int step = 0; step < 12; ++step) {
      const double lr = linearWarmupLr(1e-2, step, 2, 12);
      for (size_t k = 0; k < params.size(); ++k) {
        // Gradients spanning magnitudes, with exact zeros (moments then only decay).
        params[k].grad = sbert::test::randomVec(rng, params[k].value.size(), -3.f, 3.f);
        if (step % 4 == 3) params[k].grad[0] = 0.f;
        ref[k].update(params[k].grad, lr, params[k].weightDecay);
      }
      opt.step(lr);
      for (size_t k = 0; k < params.size(); ++k) worst = std::max(worst, maxRelToRef(params[k].value, ref[k].value));
    }
    t.check(worst < 2e-6, "AdamW: 12 steps of 3 params vs torch's update in double (max rel %.2e)", worst);
    t.check(opt.stepCount() == 12, "AdamW counts its steps");
  }

  // ---- hand-computed: the first step moves each weight by lr·g/(|g|+eps) ----------------------
  {
    ParamBuffer p = makeParam(rng, "w", 4, false);
    p.grad = {0.5f, -2.f, 1e-3f, 0.f};
    const std::vector<float> before = p.value;
    AdamW opt({&p}, 0.9f, 0.999f, 1e-6f, 0.01f);
    opt.step(0.1);
    bool ok = true;
    for (size_t i = 0; i < 4; ++i) {
      const double g = p.grad[i];
      const double want = before[i] - 0.1 * g / (std::fabs(g) + 1e-6);
      ok = ok && std::fabs(p.value[i] - want) < 1e-6;
    }
    t.check(ok, "AdamW: first step is lr·g/(|g|+eps) (no decay group)");
  }
  {
    // Decoupled decay: with a zero gradient the weight only shrinks by (1 − lr·wd).
    ParamBuffer decays = makeParam(rng, "w", 3, true), fixed = makeParam(rng, "b", 3, false);
    const std::vector<float> d0 = decays.value, f0 = fixed.value;
    AdamW opt({&decays, &fixed}, 0.9f, 0.999f, 1e-6f, 0.5f);
    opt.step(0.2);
    bool ok = true;
    for (size_t i = 0; i < 3; ++i) {
      ok = ok && std::fabs(decays.value[i] - d0[i] * 0.9) < 1e-7;
      ok = ok && fixed.value[i] == f0[i];
    }
    t.check(ok, "AdamW: decoupled decay only on the decay group (w·(1−lr·wd), bias untouched)");
  }
  {
    // lr 0 leaves the weights but still advances the moments and the step count (torch does).
    ParamBuffer a = makeParam(rng, "w", 2, true), b = a;
    a.grad = b.grad = {1.f, -1.f};
    AdamW withWarmup({&a}, 0.9f, 0.999f, 1e-6f, 0.01f), fresh({&b}, 0.9f, 0.999f, 1e-6f, 0.01f);
    const std::vector<float> before = a.value;
    withWarmup.step(0.0);
    t.check(a.value == before, "AdamW: a step at lr 0 leaves the weights unchanged");
    a.grad = b.grad = {-1.f, 0.25f};
    withWarmup.step(0.1);
    fresh.step(0.1);
    t.check(std::fabs(a.value[0] - b.value[0]) > 1e-3,
            "AdamW: the lr-0 step still counted (second step differs from a fresh first step)");
  }

  // ---- clip_grad_norm_ -------------------------------------------------------------------------
  {
    ParamBuffer a = makeParam(rng, "a", 3, true), b = makeParam(rng, "b", 1, false);
    a.grad = {3.f, 0.f, 4.f};
    b.grad = {12.f};  // total norm 13
    AdamW opt({&a, &b}, 0.9f, 0.999f, 1e-6f, 0.f);
    const double norm = opt.clipGradNorm(1.0);
    t.check(std::fabs(norm - 13.0) < 1e-12, "clip: returns the total norm before clipping (13, got %.9f)", norm);
    const double coef = 1.0 / (13.0 + 1e-6);
    t.check(std::fabs(a.grad[0] - 3 * coef) < 1e-7 && std::fabs(a.grad[2] - 4 * coef) < 1e-7 &&
                std::fabs(b.grad[0] - 12 * coef) < 1e-7,
            "clip: scales every grad by maxNorm / (norm + 1e-6)");
    const double again = opt.clipGradNorm(1.0);
    t.check(std::fabs(again - 13.0 * coef) < 1e-6, "clip: norm after clipping ≈ 1 (%.9f)", again);
    const std::vector<float> keep = a.grad;
    opt.clipGradNorm(100.0);
    t.check(a.grad == keep, "clip: grads under maxNorm are left exactly as they are");
  }

  // ---- get_linear_schedule_with_warmup ---------------------------------------------------------
  {
    struct Case { int64_t step, warmup, total; double want; };
    const Case cases[] = {
        {0, 1, 10, 0.0},        {1, 1, 10, 1.0},         {2, 1, 10, 8.0 / 9},
        {9, 1, 10, 1.0 / 9},    {10, 1, 10, 0.0},        {12, 1, 10, 0.0},
        {0, 10, 100, 0.0},      {5, 10, 100, 0.5},       {10, 10, 100, 1.0},
        {55, 10, 100, 0.5},     {99, 10, 100, 1.0 / 90}, {100, 10, 100, 0.0},
        {0, 0, 4, 1.0},         {3, 0, 4, 0.25},         {0, 5, 5, 0.0},
        {4, 5, 5, 0.8},         {5, 5, 5, 0.0},
    };
    for (const Case& c : cases) {
      const double got = linearWarmupLr(2e-5, c.step, c.warmup, c.total);
      t.check(std::fabs(got - 2e-5 * c.want) <= 1e-20, "schedule: step %lld of %lld, warm-up %lld → %.6g·lr (got %.6g·lr)",
              (long long)c.step, (long long)c.total, (long long)c.warmup, c.want, got / 2e-5);
    }
  }

  // ---- bad hyper-parameters throw with a code ---------------------------------------------------
  {
    ParamBuffer p = makeParam(rng, "w", 2, true);
    bool threw = false;
    try {
      AdamW bad({&p}, 1.f, 0.999f, 1e-6f, 0.01f);
    } catch (const sbert::Error& e) {
      threw = e.code() == "ERR_OUT_OF_RANGE";
    }
    t.check(threw, "AdamW: beta1 = 1 → ERR_OUT_OF_RANGE");
  }
  return t.finish();
}
