// The CUDA engine: one object per loaded model on one device (backend.h).
//
// Load: checks what the CUDA kernels support (head dim, sizes; ERR_BAD_MODEL), uploads the
// weights of the ModelPlan once into one device allocation — per layer a fused QKV weight [3H, H] (query | key | value rows) and the other
// Linear weights in the storage dtype (converted on the host straight from the file's dtype,
// round to nearest even; an fp16 file going to fp16 storage is copied; fp32 for precision
// 'fp32'); biases, LayerNorm parameters, embedding tables and Dense modules
// in fp32 — and creates one non-blocking stream.
//
// encode (called from a libuv worker thread; cudaSetDevice first, always):
//   validateBatch → stage ids (+ position ids, type ids, relative bias by distance, as the
//   family needs) / cuSeqlens through pinned host buffers → embeddings+LN →
//   L × [QKV GEMM+bias → varlen flash attention (+ bias) → out-proj GEMM+bias → residual+LN →
//        FFN-up GEMM+bias+GELU → FFN-down GEMM+bias → residual+LN] →
//   pooling (all modes, concatenated; + L2 normalize when it is the last step) →
//   Dense modules (fp32) → L2 normalize (if after Dense) → fp32 outputs back through pinned
//   memory into the caller's buffers; token embeddings (last_hidden_state) cast to fp32 on the
//   device when asked for.
// Workspaces: activation buffers sized for the batch's tokens, grown (free + re-allocate) when
// a batch needs more, released after a batch larger than retainTokens. When an allocation fails the engine throws
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
#include "kernels/embeddings.h"
#include "kernels/relative_position.h"

namespace sbert {
namespace {

using cuda::DType;

constexpr size_t kAlign = 256;
size_t alignUp(size_t x) { return (x + kAlign - 1) / kAlign * kAlign; }

// ---- RAII holders (free on their device, never throw) ---------------------------------------
// Device memory and pinned host memory differ only in how they are allocated and freed: one
// owner class, the allocator a policy. Device memory is freed on the device it came from.
struct DeviceAllocator {
  static void allocate(void** p, size_t bytes) { SBERT_CUDA_CHECK(cudaMalloc(p, bytes)); }
  static void release(void* p, int device) noexcept {
    cudaSetDevice(device);
    cudaFree(p);
  }
};
struct PinnedAllocator {
  static void allocate(void** p, size_t bytes) { SBERT_CUDA_CHECK(cudaMallocHost(p, bytes)); }
  static void release(void* p, int) noexcept { cudaFreeHost(p); }
};

template <typename Allocator>
class CudaMemory {
 public:
  CudaMemory() = default;
  CudaMemory(const CudaMemory&) = delete;
  CudaMemory& operator=(const CudaMemory&) = delete;
  ~CudaMemory() { reset(); }
  // Exactly `bytes` (none for 0) on `device`; what was held is freed first.
  void allocate(int device, size_t bytes) {
    reset();
    if (bytes == 0) return;
    void* p = nullptr;
    Allocator::allocate(&p, bytes);
    ptr_ = p;
    bytes_ = bytes;
    device_ = device;
  }
  // Grows to at least `bytes`, with a quarter more as headroom (contents are not kept).
  void reserve(size_t bytes, int device = 0) {
    if (bytes <= bytes_) return;
    allocate(device, alignUp(bytes + bytes / 4));
  }
  void reset() noexcept {
    if (ptr_) {
      Allocator::release(ptr_, device_);
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

using DeviceMemory = CudaMemory<DeviceAllocator>;
using PinnedMemory = CudaMemory<PinnedAllocator>;

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
// What the CUDA kernels support beyond the plan's own contract (the plan is already checked).
void checkCudaLimits(const BertShape& s) {
  SBERT_CHECK(s.headDim() <= 256, "ERR_BAD_MODEL", "the CUDA engine supports head dims up to 256");
  SBERT_CHECK(s.hiddenSize <= 12000 && s.intermediateSize <= (1 << 20), "ERR_BAD_MODEL",
              "hidden/intermediate size too large for the CUDA engine");
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
  CudaBackend(const ModelPlan& plan, int device, Precision precision)
      : shape_(plan.shape), device_(device), pooling_(plan.pooling), normalize_(plan.normalize),
        sentenceDim_(plan.sentenceDim) {
    dt_ = precision == Precision::Fp16 ? DType::F16 : precision == Precision::Bf16 ? DType::BF16 : DType::F32;
    checkCudaLimits(shape_);

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
    uploadWeights(plan);
  }

  ~CudaBackend() override {
    // Wait for anything still queued (an encode that threw half-way), then the members free
    // themselves; every error is ignored here.
    cudaSetDevice(device_);
    if (stream_.get()) cudaStreamSynchronize(stream_.get());
    (void)cudaGetLastError();
  }

  std::string deviceName() const override { return name_; }

  void reserveWorkspace(int64_t tokens) override {
    SBERT_CUDA_CHECK(cudaSetDevice(device_));
    SBERT_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
    reserveTokens(tokens);
  }

  int64_t memoryBytes() const override {
    return static_cast<int64_t>(weights_.bytes() + biasWs_.bytes() + tokenWs_.bytes() + seqWs_.bytes() +
                                pinnedIn_.bytes() + pinnedOut_.bytes());
  }

  void encode(const EncodeBatch& batch, const EncodeOutputs& out) override {
    validateBatch(shape_, batch);
    validateOutputs(out);
    SBERT_CUDA_CHECK(cudaSetDevice(device_));
    // Normally idle already; after a call that threw half-way, queued work may still use the
    // pinned and device buffers this call is about to reuse or re-allocate.
    SBERT_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
    const int n = batch.numSequences;
    const int64_t T = batch.numTokens();
    const int H = shape_.hiddenSize;
    const int dim = sentenceDim_;
    if (n == 0) return;
    SBERT_CHECK(T < (int64_t{1} << 31) - 64, "ERR_BAD_INPUT", "batch has too many tokens for one call");
    const bool wantSentence = out.sentence != nullptr;
    const bool doNormalize = normalize_ || out.forceNormalize;

    reserveTokens(T);
    reserveSequences(n);
    if (wantSentence) pinnedOut_.reserve(static_cast<size_t>(n) * dim * sizeof(float));

    // Inputs → pinned → device: ids | position ids (RoBERTa / MPNet rule, computed here by the
    // CPU engine's function) | token type ids (when given) | cuSeqlens | relative bias by
    // distance (MPNet, expanded for this batch's longest sequence).
    const size_t idsBytes = static_cast<size_t>(T) * sizeof(int32_t);
    const size_t cuBytes = static_cast<size_t>(n + 1) * sizeof(int32_t);
    const bool positions = shape_.positionIds == PositionIds::AfterPadding;
    const bool types = batch.typeIds != nullptr;
    int maxLen = 1;
    for (int i = 0; i < n; ++i) maxLen = std::max(maxLen, batch.cuSeqlens[i + 1] - batch.cuSeqlens[i]);
    const size_t biasBytes =
        relativeBiasHost_.empty() ? 0 : static_cast<size_t>(shape_.numHeads) * scoreBiasStride(maxLen) * sizeof(float);
    const size_t oPos = alignUp(idsBytes), oTypes = oPos + (positions ? alignUp(idsBytes) : 0),
                 oCu = oTypes + (types ? alignUp(idsBytes) : 0), oBias = oCu + alignUp(cuBytes);
    pinnedIn_.reserve(oBias + biasBytes);
    char* pin = pinnedIn_.get();
    std::memcpy(pin, batch.ids, idsBytes);
    if (positions) {
      positionIdsAfterPadding(batch.ids, batch.cuSeqlens, n, shape_.paddingIdx, reinterpret_cast<int32_t*>(pin + oPos));
    }
    if (types) std::memcpy(pin + oTypes, batch.typeIds, idsBytes);
    std::memcpy(pin + oCu, batch.cuSeqlens, cuBytes);
    cuda::AttentionBias bias;
    if (biasBytes) {
      expandRelativeBias(relativeBiasHost_.data(), shape_.relativeBuckets, shape_.relativeMaxDistance, shape_.numHeads,
                         maxLen, reinterpret_cast<float*>(pin + oBias));
      bias = {dBias_, maxLen, scoreBiasStride(maxLen)};
    }
    cudaStream_t st = stream_.get();
    SBERT_CUDA_CHECK(cudaMemcpyAsync(dIds_, pin, idsBytes, cudaMemcpyHostToDevice, st));
    if (positions) SBERT_CUDA_CHECK(cudaMemcpyAsync(dPositions_, pin + oPos, idsBytes, cudaMemcpyHostToDevice, st));
    if (types) SBERT_CUDA_CHECK(cudaMemcpyAsync(dTypes_, pin + oTypes, idsBytes, cudaMemcpyHostToDevice, st));
    SBERT_CUDA_CHECK(cudaMemcpyAsync(dCu_, pin + oCu, cuBytes, cudaMemcpyHostToDevice, st));
    if (biasBytes) SBERT_CUDA_CHECK(cudaMemcpyAsync(dBias_, pin + oBias, biasBytes, cudaMemcpyHostToDevice, st));

    runEncoder(n, T, positions ? dPositions_ : nullptr, types ? dTypes_ : nullptr, bias, st);

    float* result = nullptr;
    if (wantSentence) {
      const bool fuseNorm = doNormalize && dense_.empty();
      cuda::launchPool(dX_, dt_, dCu_, n, H, pooling_, fuseNorm, dPooled_, st, out.poolSkipTokens);
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
    if (out.tokens) {
      // The QKV buffer is free now and holds at least T·H fp32 values (3·H·2 ≥ 4·H bytes per row).
      float* tok = reinterpret_cast<float*>(dQkv_);
      cuda::launchCast(dX_, dt_, tok, DType::F32, T * H, st);
      // Pageable destination (the caller's Float32Array): the copy is synchronous for the host.
      SBERT_CUDA_CHECK(cudaMemcpyAsync(out.tokens, tok, static_cast<size_t>(T) * H * sizeof(float),
                                       cudaMemcpyDeviceToHost, st));
    }
    SBERT_CUDA_CHECK(cudaStreamSynchronize(st));
    if (wantSentence) {
      std::memcpy(out.sentence, pinnedOut_.get(), static_cast<size_t>(n) * dim * sizeof(float));
    }
    if (T > retainTokens_) {  // an oversized call does not pin its workspace
      tokenWs_.reset();
      capTokens_ = 0;
    }
  }

 private:
  // The op list of the one CPU forward (engine/cpu_forward.h), step for step, with the CUDA
  // kernels: an op added there is added here too (and to its backward in train/model_graph.cc).
  void runEncoder(int n, int64_t T64, const int32_t* positionIds, const int32_t* typeIds,
                  const cuda::AttentionBias& bias, cudaStream_t st) {
    const int T = static_cast<int>(T64);
    const int H = shape_.hiddenSize;
    const int F = shape_.intermediateSize;
    cuda::launchEmbeddingsLayerNorm(dIds_, typeIds, positionIds, dCu_, n, T, emb_, dX_, dt_, st);
    for (const LayerWeights& L : layers_) {
      cuda::GemmEpilogue ep;
      ep.bias = L.bqkv;
      cuda::launchGemm(dX_, L.wqkv, dQkv_, T, 3 * H, H, dt_, dt_, ep, st);
      cuda::launchAttention(dQkv_, dCu_, n, T, shape_.numHeads, shape_.headDim(), bias, dCtx_, dt_, st);
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
  // FFN [T,F] in the storage dtype, ids int32.
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
                 oTmp = take(t * H * es), oFfn = take(t * F * es), oIds = take(t * 4), oPos = take(t * 4),
                 oTypes = take(t * 4);
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
    dPositions_ = reinterpret_cast<int32_t*>(base + oPos);
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

  void uploadWeights(const ModelPlan& plan) {
    // Layout pass: every piece gets an aligned offset in one allocation, and a filler that
    // converts its parameters from the file's bytes straight into a host staging buffer.
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
    // Parameters concatenated, in fp32 (biases, LayerNorm, embeddings, Dense) or in the storage
    // dtype (the encoder's Linear weights).
    auto addParams = [&](std::vector<int> indices, DType dt) {
      size_t count = 0;
      for (int i : indices) count += static_cast<size_t>(plan.param(i).numel());
      const ModelPlan* p = &plan;
      const size_t elem = cuda::dtypeSize(dt);
      return add(count * elem, [p, indices, dt, elem](char* dst) {
        size_t at = 0;
        for (int i : indices) {
          p->param(i).copyTo(dst + at * elem, dt);
          at += static_cast<size_t>(p->param(i).numel());
        }
      });
    };
    auto addF32 = [&](int index) { return addParams({index}, DType::F32); };

    const EmbeddingsPlan& e = plan.embeddings;
    const size_t oWord = addF32(e.word), oPos = addF32(e.position), oType = e.tokenType >= 0 ? addF32(e.tokenType) : 0,
                 oEg = addF32(e.lnGamma), oEb = addF32(e.lnBeta);
    // MPNet's relative bias: the table stays on the host (expanded by distance per batch) and
    // the device holds the expansion for the longest sequence the model allows.
    if (e.relativeBias >= 0) {
      relativeBiasHost_.resize(static_cast<size_t>(plan.param(e.relativeBias).numel()));
      plan.param(e.relativeBias).copyTo(relativeBiasHost_.data());
      biasWs_.allocate(device_, static_cast<size_t>(plan.shape.numHeads) *
                                    scoreBiasStride(plan.shape.maxSequenceLength()) * sizeof(float));
      dBias_ = reinterpret_cast<float*>(biasWs_.get());
    }

    struct LayerOffsets {
      size_t wqkv, bqkv, wo, bo, ln1g, ln1b, w1, b1, w2, b2, ln2g, ln2b;
    };
    std::vector<LayerOffsets> lo;
    for (const LayerPlan& P : plan.layers) {
      LayerOffsets L;
      L.wqkv = addParams({P.query, P.key, P.value}, dt_);
      L.bqkv = addParams({P.queryBias, P.keyBias, P.valueBias}, DType::F32);
      L.wo = addParams({P.attnOut}, dt_);
      L.bo = addF32(P.attnOutBias);
      L.ln1g = addF32(P.attnLnGamma);
      L.ln1b = addF32(P.attnLnBeta);
      L.w1 = addParams({P.ffnIn}, dt_);
      L.b1 = addF32(P.ffnInBias);
      L.w2 = addParams({P.ffnOut}, dt_);
      L.b2 = addF32(P.ffnOutBias);
      L.ln2g = addF32(P.ffnLnGamma);
      L.ln2b = addF32(P.ffnLnBeta);
      lo.push_back(L);
    }

    struct DenseOffsets {
      size_t w, b;
    };
    std::vector<DenseOffsets> dof;
    for (const DensePlan& d : plan.dense) {
      DenseOffsets o{};
      o.w = addF32(d.weight);
      if (d.bias >= 0) o.b = addF32(d.bias);
      dof.push_back(o);
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

    const BertShape& s = shape_;
    auto f32 = [base](size_t o) { return reinterpret_cast<const float*>(base + o); };
    emb_.word = f32(oWord);
    emb_.position = f32(oPos);
    emb_.tokenType = e.tokenType >= 0 ? f32(oType) : nullptr;
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
      const DensePlan& d = plan.dense[i];
      dense_.push_back({f32(dof[i].w), d.bias >= 0 ? f32(dof[i].b) : nullptr, d.inFeatures, d.outFeatures,
                        d.activation});
    }
  }

  BertShape shape_;
  int device_;
  DType dt_ = DType::F16;
  std::vector<PoolMode> pooling_;
  bool normalize_;
  int sentenceDim_;
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
  int32_t* dPositions_ = nullptr;
  int32_t* dTypes_ = nullptr;

  std::vector<float> relativeBiasHost_;  // [relativeBuckets, numHeads]; empty: none
  DeviceMemory biasWs_;
  float* dBias_ = nullptr;

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

std::unique_ptr<Backend> makeCudaBackend(const ModelPlan& plan, int device, Precision precision) {
  if (precision == Precision::Int8) {
    throw Error("ERR_UNSUPPORTED", "precision 'int8' is a CPU precision; the CUDA engine computes in 'fp16', 'bf16' or 'fp32'");
  }
  return std::make_unique<CudaBackend>(plan, device, precision);
}

}  // namespace sbert
