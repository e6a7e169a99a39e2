// The CUDA engine: one object per loaded model on one device (backend.h).
//
// Load: validates the model shape (ERR_BAD_MODEL), uploads the weights once into one device
// allocation — per layer a fused QKV weight [3H, H] (query | key | value rows) and the other
// Linear weights in the storage dtype (fp16 / bf16 converted on the host, round to nearest even;
// fp32 for precision 'fp32'); biases, LayerNorm parameters, embedding tables and Dense modules
// in fp32 — and creates one non-blocking stream.
//
// encode (called from a libuv worker thread; cudaSetDevice first, always):
//   validateBatch → stage ids / cuSeqlens through pinned host buffers → embeddings+LN →
//   L × [QKV GEMM+bias → varlen flash attention → out-proj GEMM+bias → residual+LN →
//        FFN-up GEMM+bias+GELU → FFN-down GEMM+bias → residual+LN] →
//   pooling (all modes, concatenated; + L2 normalize when it is the last step) →
//   Dense modules (fp32) → L2 normalize (if after Dense) → fp32 outputs back through pinned
//   memory; token embeddings (last_hidden_state) cast to fp32 on the device when asked for.
// Workspaces: activation buffers sized for max(batch tokens, EncodeBatch::reserveTokens), grown
// (free + re-allocate) when a batch needs more. When an allocation fails the engine throws
// ERR_CUDA_OOM and holds no workspace, so the next call (with a smaller budget) re-allocates and
// works. Every CUDA failure is an sbert::Error (ERR_CUDA, with call, file and line); nothing
// here exits or aborts, and the destructor ignores errors.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "cuda_common.cuh"
#include "engine/backend.h"

namespace sbert {
namespace {

using cuda::DType;

constexpr size_t kAlign = 256;
size_t alignUp(size_t x) { return (x + kAlign - 1) / kAlign * kAlign; }

// ---- RAII holders (free on their device, never throw) ---------------------------------------
class DeviceMemory {
 public:
  DeviceMemory() = default;
  DeviceMemory(const DeviceMemory&) = delete;
  DeviceMemory& operator=(const DeviceMemory&) = delete;
  ~DeviceMemory() { reset(); }
  void allocate(int device, size_t bytes) {
    reset();
    if (bytes == 0) return;
    void* p = nullptr;
    SBERT_CUDA_CHECK(cudaMalloc(&p, bytes));
    ptr_ = p;
    bytes_ = bytes;
    device_ = device;
  }
  void reset() noexcept {
    if (ptr_) {
      cudaSetDevice(device_);
      cudaFree(ptr_);
      (void)cudaGetLastError();
    }
    ptr_ = nullptr;
    bytes_ = 0;
  }
  char* get() const { return static_cast<char*>(ptr_); }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
  int device_ = 0;
};

class PinnedMemory {
 public:
  PinnedMemory() = default;
  PinnedMemory(const PinnedMemory&) = delete;
  PinnedMemory& operator=(const PinnedMemory&) = delete;
  ~PinnedMemory() { reset(); }
  // Grows to at least `bytes` (contents are not kept).
  void reserve(size_t bytes) {
    if (bytes <= bytes_) return;
    reset();
    const size_t want = alignUp(bytes + bytes / 4);
    void* p = nullptr;
    SBERT_CUDA_CHECK(cudaMallocHost(&p, want));
    ptr_ = p;
    bytes_ = want;
  }
  void reset() noexcept {
    if (ptr_) {
      cudaFreeHost(ptr_);
      (void)cudaGetLastError();
    }
    ptr_ = nullptr;
    bytes_ = 0;
  }
  char* get() const { return static_cast<char*>(ptr_); }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

class Stream {
 public:
  Stream() = default;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream() {
    if (stream_) {
      cudaSetDevice(device_);
      cudaStreamSynchronize(stream_);
      cudaStreamDestroy(stream_);
      (void)cudaGetLastError();
    }
  }
  void create(int device) {
    device_ = device;
    SBERT_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  }
  cudaStream_t get() const { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
  int device_ = 0;
};

// ---- model validation -----------------------------------------------------------------------
const HostTensor& requireTensor(const ModelSpec& spec, const std::string& name, std::vector<int64_t> shape) {
  auto it = spec.tensors.find(name);
  if (it == spec.tensors.end()) throw Error("ERR_BAD_MODEL", "missing weight tensor '" + name + "'");
  const HostTensor& t = it->second;
  auto fmt = [](const std::vector<int64_t>& s) {
    std::string r = "[";
    for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
    return r + "]";
  };
  if (t.shape != shape) {
    throw Error("ERR_BAD_MODEL", "weight '" + name + "' has shape " + fmt(t.shape) + ", expected " + fmt(shape));
  }
  if (static_cast<int64_t>(t.data.size()) != t.numel()) {
    throw Error("ERR_BAD_MODEL", "weight '" + name + "' holds " + std::to_string(t.data.size()) + " values for shape " +
                                     fmt(t.shape));
  }
  return t;
}

void validateShape(const BertShape& s) {
  SBERT_CHECK(s.vocabSize > 0 && s.hiddenSize > 0 && s.numLayers >= 0 && s.numHeads > 0 && s.intermediateSize > 0 &&
                  s.maxPositions > 0 && s.typeVocabSize > 0,
              "ERR_BAD_MODEL", "model config has a non-positive dimension");
  SBERT_CHECK(s.hiddenSize % s.numHeads == 0, "ERR_BAD_MODEL", "hidden_size is not a multiple of num_attention_heads");
  SBERT_CHECK(s.headDim() <= 256, "ERR_BAD_MODEL", "the CUDA engine supports head dims up to 256");
  SBERT_CHECK(s.hiddenSize <= 12000 && s.intermediateSize <= (1 << 20), "ERR_BAD_MODEL",
              "hidden/intermediate size too large for the CUDA engine");
  SBERT_CHECK(std::isfinite(s.layerNormEps) && s.layerNormEps > 0.f, "ERR_BAD_MODEL", "layer_norm_eps must be positive");
}

struct LayerWeights {
  const void* wqkv;  // [3H, H] storage dtype
  const float* bqkv; // [3H]
  const void* wo;    // [H, H]
  const float* bo;
  const float* ln1g;
  const float* ln1b;
  const void* w1;    // [F, H]
  const float* b1;
  const void* w2;    // [H, F]
  const float* b2;
  const float* ln2g;
  const float* ln2b;
};

struct DenseWeights {
  const float* w;  // [out, in] fp32
  const float* b;  // [out] or null
  int in, out;
  Activation act;
};

// ---- the engine -----------------------------------------------------------------------------
class CudaBackend final : public Backend {
 public:
  CudaBackend(const ModelSpec& spec, int device, Precision precision)
      : shape_(spec.shape), device_(device), pooling_(spec.pooling), normalize_(spec.normalize) {
    dt_ = precision == Precision::Fp16 ? DType::F16 : precision == Precision::Bf16 ? DType::BF16 : DType::F32;
    validateShape(shape_);
    SBERT_CHECK(pooling_.size() <= 6, "ERR_BAD_MODEL", "more than 6 pooling modes");

    int count = 0;
    SBERT_CUDA_CHECK(cudaGetDeviceCount(&count));
    if (device < 0 || device >= count) {
      throw Error("ERR_CUDA", "no CUDA device " + std::to_string(device) + " (" + std::to_string(count) + " present)");
    }
    SBERT_CUDA_CHECK(cudaSetDevice(device_));
    cudaDeviceProp prop;
    SBERT_CUDA_CHECK(cudaGetDeviceProperties(&prop, device_));
    if (prop.major < 8) {
      throw Error("ERR_CUDA", std::string("CUDA device ") + std::to_string(device) + " (" + prop.name +
                                  ") has compute capability " + std::to_string(prop.major) + "." +
                                  std::to_string(prop.minor) + "; the CUDA engine needs 8.0 or newer");
    }
    name_ = "cuda:" + std::to_string(device) + " (" + prop.name + ")";
    stream_.create(device_);
    uploadWeights(spec);
  }

  ~CudaBackend() override {
    // Wait for anything still queued (an encode that threw half-way), then the members free
    // themselves; every error is ignored here.
    cudaSetDevice(device_);
    if (stream_.get()) cudaStreamSynchronize(stream_.get());
    (void)cudaGetLastError();
  }

  std::string deviceName() const override { return name_; }

  int64_t memoryBytes() const override {
    return static_cast<int64_t>(weights_.bytes() + tokenWs_.bytes() + seqWs_.bytes() + pinnedIn_.bytes() +
                                pinnedOut_.bytes());
  }

  void encode(const EncodeBatch& batch, EncodeOutputs& out) override {
    validateBatch(shape_, batch);
    SBERT_CUDA_CHECK(cudaSetDevice(device_));
    // Normally idle already; after a call that threw half-way, queued work may still use the
    // pinned and device buffers this call is about to reuse or re-allocate.
    SBERT_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
    const int n = batch.numSequences;
    const int64_t T = batch.numTokens();
    const int H = shape_.hiddenSize;
    const int dim = sentenceDim();
    out.sentence.clear();
    out.tokens.clear();
    if (n == 0) return;
    SBERT_CHECK(T < (int64_t{1} << 31) - 64, "ERR_BAD_INPUT", "batch has too many tokens for one call");
    if (out.wantSentence && pooling_.empty()) {
      throw Error("ERR_BAD_INPUT",
                  "sentence embeddings were requested but the model has no Pooling module; ask for token "
                  "embeddings instead");
    }
    const bool wantSentence = out.wantSentence;
    const bool doNormalize = (out.applyNormalize && normalize_) || out.forceNormalize;

    reserveTokens(std::max<int64_t>(T, batch.reserveTokens));
    reserveSequences(n);
    if (wantSentence) pinnedOut_.reserve(static_cast<size_t>(n) * dim * sizeof(float));
    if (out.wantTokens) out.tokens.resize(static_cast<size_t>(T) * H);

    // Inputs → pinned → device.
    const size_t idsBytes = static_cast<size_t>(T) * sizeof(int32_t);
    const size_t cuBytes = static_cast<size_t>(n + 1) * sizeof(int32_t);
    pinnedIn_.reserve(alignUp(idsBytes) * 2 + cuBytes);
    char* pin = pinnedIn_.get();
    std::memcpy(pin, batch.ids, idsBytes);
    const bool haveTypes = batch.typeIds != nullptr;
    if (haveTypes) std::memcpy(pin + alignUp(idsBytes), batch.typeIds, idsBytes);
    std::memcpy(pin + 2 * alignUp(idsBytes), batch.cuSeqlens, cuBytes);
    cudaStream_t st = stream_.get();
    SBERT_CUDA_CHECK(cudaMemcpyAsync(dIds_, pin, idsBytes, cudaMemcpyHostToDevice, st));
    if (haveTypes) {
      SBERT_CUDA_CHECK(cudaMemcpyAsync(dTypes_, pin + alignUp(idsBytes), idsBytes, cudaMemcpyHostToDevice, st));
    }
    SBERT_CUDA_CHECK(cudaMemcpyAsync(dCu_, pin + 2 * alignUp(idsBytes), cuBytes, cudaMemcpyHostToDevice, st));

    runEncoder(n, T, haveTypes, st);

    float* result = nullptr;
    if (wantSentence) {
      const bool fuseNorm = doNormalize && dense_.empty();
      cuda::launchPool(dX_, dt_, dCu_, n, H, pooling_, fuseNorm, dPooled_, st);
      const float* cur = dPooled_;
      int curDim = H * static_cast<int>(pooling_.size());
      float* bufs[2] = {dDenseA_, dDenseB_};
      for (size_t i = 0; i < dense_.size(); ++i) {
        const DenseWeights& d = dense_[i];
        float* next = bufs[i & 1];
        cuda::launchDense(cur, n, d.in, d.w, d.b, d.out, d.act, next, st);
        cur = next;
        curDim = d.out;
      }
      if (doNormalize && !dense_.empty()) cuda::launchL2Normalize(const_cast<float*>(cur), n, curDim, st);
      result = const_cast<float*>(cur);
      SBERT_CUDA_CHECK(cudaMemcpyAsync(pinnedOut_.get(), result, static_cast<size_t>(n) * dim * sizeof(float),
                                       cudaMemcpyDeviceToHost, st));
    }
    if (out.wantTokens) {
      // The QKV buffer is free now and holds at least T·H fp32 values (3·H·2 ≥ 4·H bytes per row).
      float* tok = reinterpret_cast<float*>(dQkv_);
      cuda::launchCast(dX_, dt_, tok, DType::F32, T * H, st);
      SBERT_CUDA_CHECK(cudaMemcpyAsync(out.tokens.data(), tok, out.tokens.size() * sizeof(float),
                                       cudaMemcpyDeviceToHost, st));
    }
    SBERT_CUDA_CHECK(cudaStreamSynchronize(st));
    if (wantSentence) {
      const float* src = reinterpret_cast<const float*>(pinnedOut_.get());
      out.sentence.assign(src, src + static_cast<size_t>(n) * dim);
    }
  }

 private:
  int sentenceDim() const {
    if (!dense_.empty()) return dense_.back().out;
    return shape_.hiddenSize * static_cast<int>(pooling_.size());
  }

  void runEncoder(int n, int64_t T64, bool haveTypes, cudaStream_t st) {
    const int T = static_cast<int>(T64);
    const int H = shape_.hiddenSize;
    const int F = shape_.intermediateSize;
    cuda::launchEmbeddingsLayerNorm(dIds_, haveTypes ? dTypes_ : nullptr, dCu_, n, T, emb_, dX_, dt_, st);
    for (const LayerWeights& L : layers_) {
      cuda::GemmEpilogue ep;
      ep.bias = L.bqkv;
      cuda::launchGemm(dX_, L.wqkv, dQkv_, T, 3 * H, H, dt_, dt_, ep, st);
      cuda::launchAttention(dQkv_, dCu_, n, T, shape_.numHeads, shape_.headDim(), dCtx_, dt_, st);
      ep.bias = L.bo;
      cuda::launchGemm(dCtx_, L.wo, dTmp_, T, H, H, dt_, dt_, ep, st);
      cuda::launchLayerNorm(dTmp_, dX_, L.ln1g, L.ln1b, T, H, shape_.layerNormEps, dX_, dt_, st);
      ep.bias = L.b1;
      ep.act = Activation::Gelu;
      cuda::launchGemm(dX_, L.w1, dFfn_, T, F, H, dt_, dt_, ep, st);
      ep.bias = L.b2;
      ep.act = Activation::Identity;
      cuda::launchGemm(dFfn_, L.w2, dTmp_, T, H, F, dt_, dt_, ep, st);
      cuda::launchLayerNorm(dTmp_, dX_, L.ln2g, L.ln2b, T, H, shape_.layerNormEps, dX_, dt_, st);
    }
  }

  // Activation workspace for `tokens` rows: X [T,H], QKV [T,3H], CTX [T,H], TMP [T,H],
  // FFN [T,F] in the storage dtype, ids and type ids int32.
  void reserveTokens(int64_t tokens) {
    if (tokens <= capTokens_) return;
    // Round up so that small growth does not re-allocate every call.
    const int64_t want = (tokens + 1023) / 1024 * 1024;
    const size_t es = cuda::dtypeSize(dt_);
    const int64_t H = shape_.hiddenSize, F = shape_.intermediateSize;
    SBERT_CHECK(want < (int64_t{1} << 40), "ERR_CUDA_OOM", "token budget too large for the device");
    const size_t t = static_cast<size_t>(want);
    size_t off = 0;
    auto take = [&](size_t bytes) {
      const size_t o = off;
      off += alignUp(bytes);
      return o;
    };
    const size_t oX = take(t * H * es), oQkv = take(t * 3 * H * es), oCtx = take(t * H * es),
                 oTmp = take(t * H * es), oFfn = take(t * F * es), oIds = take(t * 4), oTypes = take(t * 4);
    // A budget larger than the whole card fails here, keeping the current workspace.
    size_t freeBytes = 0, totalBytes = 0;
    SBERT_CUDA_CHECK(cudaMemGetInfo(&freeBytes, &totalBytes));
    if (off > totalBytes) {
      throw Error("ERR_CUDA_OOM", "a token budget of " + std::to_string(tokens) + " tokens needs " +
                                      std::to_string(off >> 20) + " MiB of activation workspace; " + name_ +
                                      " has " + std::to_string(totalBytes >> 20) + " MiB");
    }
    // Free first, then allocate: on failure the engine holds nothing and stays usable.
    tokenWs_.reset();
    capTokens_ = 0;
    tokenWs_.allocate(device_, off);  // throws ERR_CUDA_OOM (error state cleared) when too large
    char* base = tokenWs_.get();
    dX_ = base + oX;
    dQkv_ = base + oQkv;
    dCtx_ = base + oCtx;
    dTmp_ = base + oTmp;
    dFfn_ = base + oFfn;
    dIds_ = reinterpret_cast<int32_t*>(base + oIds);
    dTypes_ = reinterpret_cast<int32_t*>(base + oTypes);
    capTokens_ = want;
  }

  // Per-sequence buffers: cuSeqlens, pooled vectors, two Dense ping-pong buffers (all fp32/int32).
  void reserveSequences(int n) {
    if (n <= capSeqs_) return;
    const int64_t want = (static_cast<int64_t>(n) + 255) / 256 * 256;
    int maxDense = 1;
    for (const DenseWeights& d : dense_) maxDense = std::max(maxDense, d.out);
    const size_t poolDim = static_cast<size_t>(shape_.hiddenSize) * std::max<size_t>(pooling_.size(), 1);
    const size_t s = static_cast<size_t>(want);
    size_t off = 0;
    auto take = [&](size_t bytes) {
      const size_t o = off;
      off += alignUp(bytes);
      return o;
    };
    const size_t oCu = take((s + 1) * 4), oPool = take(s * poolDim * 4), oA = take(s * maxDense * 4),
                 oB = take(s * maxDense * 4);
    seqWs_.reset();
    capSeqs_ = 0;
    seqWs_.allocate(device_, off);
    char* base = seqWs_.get();
    dCu_ = reinterpret_cast<int32_t*>(base + oCu);
    dPooled_ = reinterpret_cast<float*>(base + oPool);
    dDenseA_ = reinterpret_cast<float*>(base + oA);
    dDenseB_ = reinterpret_cast<float*>(base + oB);
    capSeqs_ = static_cast<int>(want);
  }

  void uploadWeights(const ModelSpec& spec) {
    const BertShape& s = shape_;
    const int64_t H = s.hiddenSize, F = s.intermediateSize;
    const size_t es = cuda::dtypeSize(dt_);

    // Layout pass: every piece gets an aligned offset in one allocation, and a filler that
    // writes its bytes into a host staging buffer.
    struct Piece {
      size_t offset, bytes;
      std::function<void(char*)> fill;
    };
    std::vector<Piece> pieces;
    size_t total = 0;
    auto add = [&](size_t bytes, std::function<void(char*)> fill) {
      pieces.push_back({total, bytes, std::move(fill)});
      total += alignUp(bytes);
      return pieces.back().offset;
    };
    auto addF32 = [&](const HostTensor& t) {
      const HostTensor* p = &t;
      return add(t.data.size() * 4, [p](char* dst) { std::memcpy(dst, p->data.data(), p->data.size() * 4); });
    };
    auto addStorage = [&](std::vector<const HostTensor*> parts, size_t count) {
      const DType dt = dt_;
      const size_t elem = es;
      return add(count * es, [parts, dt, elem](char* dst) {
        size_t at = 0;
        for (const HostTensor* p : parts) {
          cuda::floatToDtypeHost(p->data.data(), dst + at * elem, p->data.size(), dt);
          at += p->data.size();
        }
      });
    };

    const HostTensor& word = requireTensor(spec, "embeddings.word_embeddings.weight", {s.vocabSize, H});
    const HostTensor& pos = requireTensor(spec, "embeddings.position_embeddings.weight", {s.maxPositions, H});
    const HostTensor& type = requireTensor(spec, "embeddings.token_type_embeddings.weight", {s.typeVocabSize, H});
    const HostTensor& eg = requireTensor(spec, "embeddings.LayerNorm.weight", {H});
    const HostTensor& eb = requireTensor(spec, "embeddings.LayerNorm.bias", {H});
    const size_t oWord = addF32(word), oPos = addF32(pos), oType = addF32(type), oEg = addF32(eg), oEb = addF32(eb);

    struct LayerOffsets {
      size_t wqkv, bqkv, wo, bo, ln1g, ln1b, w1, b1, w2, b2, ln2g, ln2b;
    };
    std::vector<LayerOffsets> lo(s.numLayers);
    for (int i = 0; i < s.numLayers; ++i) {
      const std::string p = "encoder.layer." + std::to_string(i) + ".";
      const HostTensor& qw = requireTensor(spec, p + "attention.self.query.weight", {H, H});
      const HostTensor& kw = requireTensor(spec, p + "attention.self.key.weight", {H, H});
      const HostTensor& vw = requireTensor(spec, p + "attention.self.value.weight", {H, H});
      const HostTensor& qb = requireTensor(spec, p + "attention.self.query.bias", {H});
      const HostTensor& kb = requireTensor(spec, p + "attention.self.key.bias", {H});
      const HostTensor& vb = requireTensor(spec, p + "attention.self.value.bias", {H});
      LayerOffsets& L = lo[i];
      L.wqkv = addStorage({&qw, &kw, &vw}, static_cast<size_t>(3 * H * H));
      {
        const HostTensor *a = &qb, *b = &kb, *c = &vb;
        L.bqkv = add(static_cast<size_t>(3 * H) * 4, [a, b, c, H](char* dst) {
          std::memcpy(dst, a->data.data(), H * 4);
          std::memcpy(dst + H * 4, b->data.data(), H * 4);
          std::memcpy(dst + 2 * H * 4, c->data.data(), H * 4);
        });
      }
      const HostTensor& ow = requireTensor(spec, p + "attention.output.dense.weight", {H, H});
      L.wo = addStorage({&ow}, static_cast<size_t>(H * H));
      L.bo = addF32(requireTensor(spec, p + "attention.output.dense.bias", {H}));
      L.ln1g = addF32(requireTensor(spec, p + "attention.output.LayerNorm.weight", {H}));
      L.ln1b = addF32(requireTensor(spec, p + "attention.output.LayerNorm.bias", {H}));
      const HostTensor& w1 = requireTensor(spec, p + "intermediate.dense.weight", {F, H});
      L.w1 = addStorage({&w1}, static_cast<size_t>(F * H));
      L.b1 = addF32(requireTensor(spec, p + "intermediate.dense.bias", {F}));
      const HostTensor& w2 = requireTensor(spec, p + "output.dense.weight", {H, F});
      L.w2 = addStorage({&w2}, static_cast<size_t>(H * F));
      L.b2 = addF32(requireTensor(spec, p + "output.dense.bias", {H}));
      L.ln2g = addF32(requireTensor(spec, p + "output.LayerNorm.weight", {H}));
      L.ln2b = addF32(requireTensor(spec, p + "output.LayerNorm.bias", {H}));
    }

    struct DenseOffsets {
      size_t w, b;
      bool hasBias;
    };
    std::vector<DenseOffsets> dof;
    int curDim = static_cast<int>(H * static_cast<int64_t>(pooling_.size()));
    for (size_t i = 0; i < spec.dense.size(); ++i) {
      const DenseSpec& d = spec.dense[i];
      const std::string what = "Dense module " + std::to_string(i);
      SBERT_CHECK(!pooling_.empty(), "ERR_BAD_MODEL", what + " follows no Pooling module");
      SBERT_CHECK(d.inFeatures == curDim, "ERR_BAD_MODEL",
                  what + ": in_features " + std::to_string(d.inFeatures) + " != " + std::to_string(curDim));
      SBERT_CHECK(d.outFeatures > 0, "ERR_BAD_MODEL", what + ": out_features must be positive");
      SBERT_CHECK(d.weight.numel() == static_cast<int64_t>(d.inFeatures) * d.outFeatures &&
                      static_cast<int64_t>(d.weight.data.size()) == d.weight.numel(),
                  "ERR_BAD_MODEL", what + ": weight shape is not [out_features, in_features]");
      SBERT_CHECK(d.bias.data.empty() || static_cast<int64_t>(d.bias.data.size()) == d.outFeatures, "ERR_BAD_MODEL",
                  what + ": bias shape is not [out_features]");
      DenseOffsets o{};
      o.w = addF32(d.weight);
      o.hasBias = !d.bias.data.empty();
      if (o.hasBias) o.b = addF32(d.bias);
      dof.push_back(o);
      curDim = d.outFeatures;
    }

    weights_.allocate(device_, total);
    char* base = weights_.get();
    // Upload piece by piece through a reusable host staging buffer.
    std::vector<char> staging;
    for (const Piece& p : pieces) {
      staging.resize(std::max(staging.size(), p.bytes));
      p.fill(staging.data());
      SBERT_CUDA_CHECK(cudaMemcpy(base + p.offset, staging.data(), p.bytes, cudaMemcpyHostToDevice));
    }
    // A pageable cudaMemcpy may return before its DMA lands, and the engine's stream is
    // non-blocking (it does not wait for the legacy stream): finish the upload here.
    SBERT_CUDA_CHECK(cudaDeviceSynchronize());

    auto f32 = [base](size_t o) { return reinterpret_cast<const float*>(base + o); };
    emb_.word = f32(oWord);
    emb_.position = f32(oPos);
    emb_.tokenType = f32(oType);
    emb_.gamma = f32(oEg);
    emb_.beta = f32(oEb);
    emb_.vocabSize = s.vocabSize;
    emb_.maxPositions = s.maxPositions;
    emb_.typeVocabSize = s.typeVocabSize;
    emb_.hidden = s.hiddenSize;
    emb_.eps = s.layerNormEps;
    for (const LayerOffsets& L : lo) {
      layers_.push_back({base + L.wqkv, f32(L.bqkv), base + L.wo, f32(L.bo), f32(L.ln1g), f32(L.ln1b), base + L.w1,
                         f32(L.b1), base + L.w2, f32(L.b2), f32(L.ln2g), f32(L.ln2b)});
    }
    for (size_t i = 0; i < dof.size(); ++i) {
      const DenseSpec& d = spec.dense[i];
      dense_.push_back({f32(dof[i].w), dof[i].hasBias ? f32(dof[i].b) : nullptr, d.inFeatures, d.outFeatures,
                        d.activation});
    }
  }

  BertShape shape_;
  int device_;
  DType dt_ = DType::F16;
  std::vector<PoolMode> pooling_;
  bool normalize_;
  std::string name_;

  // Members are destroyed in reverse order: buffers are freed before the stream goes.
  Stream stream_;
  DeviceMemory weights_;
  cuda::EmbeddingTables emb_;
  std::vector<LayerWeights> layers_;
  std::vector<DenseWeights> dense_;

  DeviceMemory tokenWs_;
  int64_t capTokens_ = 0;
  void* dX_ = nullptr;
  void* dQkv_ = nullptr;
  void* dCtx_ = nullptr;
  void* dTmp_ = nullptr;
  void* dFfn_ = nullptr;
  int32_t* dIds_ = nullptr;
  int32_t* dTypes_ = nullptr;

  DeviceMemory seqWs_;
  int capSeqs_ = 0;
  int32_t* dCu_ = nullptr;
  float* dPooled_ = nullptr;
  float* dDenseA_ = nullptr;
  float* dDenseB_ = nullptr;

  PinnedMemory pinnedIn_;
  PinnedMemory pinnedOut_;
};

}  // namespace

std::unique_ptr<Backend> makeCudaBackend(const ModelSpec& spec, int device, Precision precision) {
  return std::make_unique<CudaBackend>(spec, device, precision);
}

}  // namespace sbert
