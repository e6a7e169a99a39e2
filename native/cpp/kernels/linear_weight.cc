// LinearWeight, see linear_weight.h.
#include "kernels/linear_weight.h"

#include "common/error.h"
#include "kernels/cpu_features.h"

namespace sbert {

const char* linearPrecisionName(LinearPrecision precision) {
  switch (precision) {
    case LinearPrecision::Int8: return "int8";
    case LinearPrecision::Bf16: return "bf16";
    default: return "fp32";
  }
}

LinearWeight LinearWeight::pack(const float* W, int N, int K, LinearPrecision precision) {
  LinearWeight w;
  w.precision_ = precision;
  switch (precision) {
    case LinearPrecision::Fp32: w.fp32_ = packWeight(W, N, K); break;
    case LinearPrecision::Int8: w.int8_ = packWeightInt8(W, N, K); break;
    case LinearPrecision::Bf16: w.bf16_ = packWeightBf16(W, N, K); break;
  }
  return w;
}

void LinearWeight::repackFp32(const float* W, int N, int K) {
  if (precision_ != LinearPrecision::Fp32) *this = LinearWeight();
  packWeightInto(fp32_, W, N, K);
}

void LinearWeight::apply(const float* A, int64_t M, int K, const float* bias, const float* residual,
                         Epilogue ep, float* C) const {
  switch (precision_) {
    case LinearPrecision::Fp32: linear(A, M, K, fp32_, bias, residual, ep, C); return;
    case LinearPrecision::Int8: linearInt8(A, M, K, int8_, bias, residual, ep, C); return;
    case LinearPrecision::Bf16: linearBf16(A, M, K, bf16_, bias, residual, ep, C); return;
  }
  throw Error("ERR_INTERNAL", "LinearWeight::apply: unknown precision");
}

int LinearWeight::N() const {
  return precision_ == LinearPrecision::Int8 ? int8_.N : precision_ == LinearPrecision::Bf16 ? bf16_.N : fp32_.N;
}

int LinearWeight::K() const {
  return precision_ == LinearPrecision::Int8 ? int8_.K : precision_ == LinearPrecision::Bf16 ? bf16_.K : fp32_.K;
}

int64_t LinearWeight::bytes() const {
  return precision_ == LinearPrecision::Int8   ? int8_.bytes()
         : precision_ == LinearPrecision::Bf16 ? bf16_.bytes()
                                               : fp32_.bytes();
}

const char* LinearWeight::pathName() const {
  switch (precision_) {
    case LinearPrecision::Int8: return int8PathName(int8_.path);
    case LinearPrecision::Bf16: return bf16PathName(bf16_.path);
    default: return cpuIsaName(static_cast<CpuIsa>(fp32_.isa));
  }
}

}  // namespace sbert
