// A process-wide pool of worker threads for the CPU kernels. `parallelFor` splits [begin, end)
// into chunks and runs them on the pool plus the calling thread; it returns when all are done.
// Calls from several threads at once are safe (each call waits only for its own chunks), so two
// engines or an engine and a similarity search can share the pool. Exceptions thrown by `fn`
// are rethrown on the calling thread (the first one wins).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace sbert {

// Number of threads kernels should plan for (workers + the caller). Defaults to the machine's
// hardware concurrency; SBERT_NUM_THREADS overrides it (read once, at first use).
int numThreads();

// Run fn(chunkBegin, chunkEnd) over [begin, end) in chunks of at least `grain` items.
// With one thread, or a range no larger than one grain, it runs inline on the caller.
void parallelFor(int64_t begin, int64_t end, int64_t grain,
                 const std::function<void(int64_t, int64_t)>& fn);

}  // namespace sbert
