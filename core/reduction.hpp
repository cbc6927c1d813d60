#pragma once
// Sums per cell (e.g. per ward × group) over many items, in parallel and independent of the
// thread count: items are cut into fixed chunks of kReductionChunk, each chunk summed in item
// order, then the chunks added in chunk order — the same floating-point operations whatever the
// number of threads, so results are byte-identical for 1 or N threads.
//
// Chunks are summed a batch at a time (kBatchChunksPerThread per thread) and each batch folded
// into the total before the next: cells grow with the city (wards × groups) as well as chunks,
// so keeping every chunk's partial sums at once took memory quadratic in its size (0.3 GB at
// 10⁷ residents). Folding per batch keeps the chunk order, so the sums are unchanged.
#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace contactsim {

inline constexpr std::size_t kReductionChunk = 1 << 14;
inline constexpr std::size_t kBatchChunksPerThread = 4;

struct CellSums {
  std::vector<double> sum;           // cells × width
  std::vector<std::int64_t> count;   // items per cell
};

// cell_of(i): the cell of item i; add(i, double* sums): adds item i's `width` values to its
// cell's sums.
template <class CellOf, class Add>
CellSums sum_by_cell(std::size_t items, std::size_t cells, std::size_t width, CellOf cell_of, Add add) {
  const std::size_t chunks = std::max<std::size_t>(1, (items + kReductionChunk - 1) / kReductionChunk);
  const std::size_t batch =
      std::min(chunks, kBatchChunksPerThread * static_cast<std::size_t>(std::max(1, omp_get_max_threads())));
  std::vector<double> partial_sum(batch * cells * width);
  std::vector<std::int64_t> partial_count(batch * cells);
  CellSums total{std::vector<double>(cells * width, 0.0), std::vector<std::int64_t>(cells, 0)};
  for (std::size_t first = 0; first < chunks; first += batch) {
    const std::size_t in_batch = std::min(batch, chunks - first);
    std::fill(partial_sum.begin(), partial_sum.end(), 0.0);
    std::fill(partial_count.begin(), partial_count.end(), 0);
#pragma omp parallel for schedule(static) if (in_batch > 1)
    for (std::size_t b = 0; b < in_batch; ++b) {
      double* sums = partial_sum.data() + b * cells * width;
      std::int64_t* counts = partial_count.data() + b * cells;
      const std::size_t c = first + b;
      const std::size_t end = std::min(items, (c + 1) * kReductionChunk);
      for (std::size_t i = c * kReductionChunk; i < end; ++i) {
        const std::size_t cell = cell_of(i);
        ++counts[cell];
        add(i, sums + cell * width);
      }
    }
    for (std::size_t b = 0; b < in_batch; ++b) {
      for (std::size_t k = 0; k < cells * width; ++k) total.sum[k] += partial_sum[b * cells * width + k];
      for (std::size_t k = 0; k < cells; ++k) total.count[k] += partial_count[b * cells + k];
    }
  }
  return total;
}

}  // namespace contactsim
