#pragma once
// Sums per cell (e.g. per ward × group) over many items, in parallel and independent of the
// thread count: items are cut into fixed chunks of kReductionChunk, each chunk summed in item
// order, then the chunks added in chunk order — the same floating-point operations whatever the
// number of threads, so results are byte-identical for 1 or N threads.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace contactsim {

inline constexpr std::size_t kReductionChunk = 1 << 14;

struct CellSums {
  std::vector<double> sum;           // cells × width
  std::vector<std::int64_t> count;   // items per cell
};

// cell_of(i): the cell of item i; add(i, double* sums): adds item i's `width` values to its
// cell's sums.
template <class CellOf, class Add>
CellSums sum_by_cell(std::size_t items, std::size_t cells, std::size_t width, CellOf cell_of, Add add) {
  const std::size_t chunks = std::max<std::size_t>(1, (items + kReductionChunk - 1) / kReductionChunk);
  std::vector<double> partial_sum(chunks * cells * width, 0.0);
  std::vector<std::int64_t> partial_count(chunks * cells, 0);
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (std::size_t c = 0; c < chunks; ++c) {
    double* sums = partial_sum.data() + c * cells * width;
    std::int64_t* counts = partial_count.data() + c * cells;
    const std::size_t end = std::min(items, (c + 1) * kReductionChunk);
    for (std::size_t i = c * kReductionChunk; i < end; ++i) {
      const std::size_t cell = cell_of(i);
      ++counts[cell];
      add(i, sums + cell * width);
    }
  }
  CellSums total{std::vector<double>(cells * width, 0.0), std::vector<std::int64_t>(cells, 0)};
  for (std::size_t c = 0; c < chunks; ++c) {
    for (std::size_t k = 0; k < cells * width; ++k) total.sum[k] += partial_sum[c * cells * width + k];
    for (std::size_t k = 0; k < cells; ++k) total.count[k] += partial_count[c * cells + k];
  }
  return total;
}

}  // namespace contactsim
