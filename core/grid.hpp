#pragma once
// A bounded (non-periodic) square grid of cells, each empty or holding one agent, with the
// vacancies kept in a list for O(1) random empty-cell draws. Each occupied cell also carries a
// small label (the occupant's group, say) in a byte layer of its own, so counting a
// neighbourhood's labels reads a few contiguous bytes per row instead of chasing each
// neighbour's agent. Generic: used by the Schelling benchmark (DESIGN §8) and available to any
// grid-based mechanism.
#include <cstdint>
#include <cstring>
#include <vector>

namespace contactsim {

class OccupancyGrid {
 public:
  static constexpr std::int32_t kEmpty = -1;
  static constexpr std::uint8_t kNoLabel = 0;  // the label of an empty cell

  explicit OccupancyGrid(int side)
      : side_(side),
        row_magic_(side > 1 ? ~0ULL / static_cast<std::uint64_t>(side) + 1 : 0),
        occupant_(static_cast<std::size_t>(side) * side, kEmpty),
        label_(occupant_.size() + kWordSlack, kNoLabel) {
    vacancies_.reserve(occupant_.size());
    position_in_vacancies_.resize(occupant_.size());
    for (std::uint32_t c = 0; c < occupant_.size(); ++c) {
      position_in_vacancies_[c] = static_cast<std::uint32_t>(vacancies_.size());
      vacancies_.push_back(c);
    }
  }

  int side() const { return side_; }
  std::size_t cells() const { return occupant_.size(); }
  std::int32_t occupant(std::uint32_t cell) const { return occupant_[cell]; }
  std::uint8_t label(std::uint32_t cell) const { return label_[cell]; }
  std::size_t vacancies() const { return vacancies_.size(); }
  std::uint32_t vacancy(std::size_t k) const { return vacancies_[k]; }

  // `label` must not be kNoLabel (which marks empty cells).
  void place(std::int32_t agent, std::uint32_t cell, std::uint8_t label = 1) {
    occupant_[cell] = agent;
    label_[cell] = label;
    remove_vacancy(cell);
  }
  void vacate(std::uint32_t cell) {
    occupant_[cell] = kEmpty;
    label_[cell] = kNoLabel;
    position_in_vacancies_[cell] = static_cast<std::uint32_t>(vacancies_.size());
    vacancies_.push_back(cell);
  }

  // Calls f(occupant) for every occupied cell within Chebyshev distance `radius` of `cell`
  // (the cell itself excluded), clipped at the grid's edges.
  template <class F>
  void for_each_neighbour(std::uint32_t cell, int radius, F&& f) const {
    const Window w = window(cell, radius);
    for (int v = w.y0; v <= w.y1; ++v)
      for (int u = w.x0; u <= w.x1; ++u) {
        const auto c = static_cast<std::uint32_t>(v * side_ + u);
        if (c != cell && occupant_[c] != kEmpty) f(occupant_[c]);
      }
  }

  // How many cells within Chebyshev distance `radius` of `cell` (itself excluded, clipped at
  // the edges) hold an occupant labelled `wanted`: the same set for_each_neighbour visits,
  // counted without a branch per cell. Rows up to 8 cells wide (radius ≤ 3) are compared 8
  // labels at a time in one 64-bit word.
  int count_neighbours_labelled(std::uint32_t cell, int radius, std::uint8_t wanted) const {
    const Window w = window(cell, radius);
    const int x0 = w.x0, x1 = w.x1, y0 = w.y0, y1 = w.y1;
    const int width = x1 - x0 + 1;
    int count = 0;
    if (width <= 8) {
      // Each row's matches as one 0/1 byte per cell, summed lane by lane (at most 255 rows
      // before a lane could overflow, and radius ≤ 3 here means at most 7) and added up once.
      const std::uint64_t in_row = width == 8 ? ~0ULL : (1ULL << (8 * width)) - 1;
      std::uint64_t lanes = 0;
      for (int v = y0; v <= y1; ++v)
        lanes += matching_bytes(load_word(static_cast<std::size_t>(v) * side_ + x0), wanted) & in_row;
      count = static_cast<int>((lanes * 0x0101010101010101ULL) >> 56);
    } else {
      for (int v = y0; v <= y1; ++v) {
        const std::uint8_t* row = label_.data() + static_cast<std::size_t>(v) * side_;
        for (int u = x0; u <= x1; ++u) count += row[u] == wanted;
      }
    }
    return count - (label_[cell] == wanted);
  }

  std::size_t bytes() const {
    return occupant_.capacity() * sizeof(std::int32_t) + label_.capacity() * sizeof(std::uint8_t) +
           vacancies_.capacity() * sizeof(std::uint32_t) + position_in_vacancies_.capacity() * sizeof(std::uint32_t);
  }

 private:
  // The cells within Chebyshev distance `radius` of a cell, clipped at the grid's edges: columns
  // x0..x1 of rows y0..y1 (the cell itself included).
  struct Window {
    int x0, x1, y0, y1;
  };
  Window window(std::uint32_t cell, int radius) const {
    const int y = static_cast<int>(row_of(cell));
    const int x = static_cast<int>(cell) - y * side_;
    return {x - radius < 0 ? 0 : x - radius, x + radius >= side_ ? side_ - 1 : x + radius,
            y - radius < 0 ? 0 : y - radius, y + radius >= side_ ? side_ - 1 : y + radius};
  }

  // The label layer has this many bytes past the last cell, so an 8-label word may start at
  // any cell.
  static constexpr std::size_t kWordSlack = 7;

  std::uint64_t load_word(std::size_t first_cell) const {
    std::uint64_t word;
    std::memcpy(&word, label_.data() + first_cell, sizeof word);
    return word;
  }

  // 0x01 in each byte of `word` that equals `wanted` (labels < 128), 0x00 elsewhere. A byte of
  // word ^ pattern is zero exactly when it matched; the classic zero-byte test sets its top bit
  // for every nonzero byte, without carries between bytes.
  static std::uint64_t matching_bytes(std::uint64_t word, std::uint8_t wanted) {
    constexpr std::uint64_t kLow7 = 0x7F7F7F7F7F7F7F7FULL, kHigh = 0x8080808080808080ULL;
    const std::uint64_t diff = word ^ (0x0101010101010101ULL * wanted);
    const std::uint64_t nonzero = ((diff & kLow7) + kLow7) | diff;
    return (~nonzero & kHigh) >> 7;
  }

  // cell / side without a division instruction: the high half of cell × ⌈2⁶⁴ / side⌉, exact
  // for every 32-bit cell (the rounding error cell × (magic × side − 2⁶⁴) stays below 2⁶⁴).
  std::uint32_t row_of(std::uint32_t cell) const {
    if (side_ == 1) return cell;
    __extension__ using Wide = unsigned __int128;  // GCC and clang; __extension__ keeps -pedantic quiet
    return static_cast<std::uint32_t>((static_cast<Wide>(cell) * row_magic_) >> 64);
  }

  void remove_vacancy(std::uint32_t cell) {
    const std::uint32_t at = position_in_vacancies_[cell];
    const std::uint32_t last = vacancies_.back();
    vacancies_[at] = last;
    position_in_vacancies_[last] = at;
    vacancies_.pop_back();
  }

  int side_;
  std::uint64_t row_magic_;  // ⌈2⁶⁴ / side⌉ for row_of (side ≥ 2)
  std::vector<std::int32_t> occupant_;
  std::vector<std::uint8_t> label_;
  std::vector<std::uint32_t> vacancies_;
  std::vector<std::uint32_t> position_in_vacancies_;  // valid only for empty cells
};

}  // namespace contactsim
