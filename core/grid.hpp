#pragma once
// A bounded (non-periodic) square grid of cells, each empty or holding one agent, with the
// vacancies kept in a list for O(1) random empty-cell draws. Generic: used by the Schelling
// benchmark (DESIGN §8) and available to any grid-based mechanism.
#include <cstdint>
#include <vector>

namespace contactsim {

class OccupancyGrid {
 public:
  static constexpr std::int32_t kEmpty = -1;

  explicit OccupancyGrid(int side) : side_(side), occupant_(static_cast<std::size_t>(side) * side, kEmpty) {
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
  std::size_t vacancies() const { return vacancies_.size(); }
  std::uint32_t vacancy(std::size_t k) const { return vacancies_[k]; }

  void place(std::int32_t agent, std::uint32_t cell) {
    occupant_[cell] = agent;
    remove_vacancy(cell);
  }
  void vacate(std::uint32_t cell) {
    occupant_[cell] = kEmpty;
    position_in_vacancies_[cell] = static_cast<std::uint32_t>(vacancies_.size());
    vacancies_.push_back(cell);
  }

  // Calls f(occupant) for every occupied cell within Chebyshev distance `radius` of `cell`
  // (the cell itself excluded), clipped at the grid's edges.
  template <class F>
  void for_each_neighbour(std::uint32_t cell, int radius, F&& f) const {
    const int x = static_cast<int>(cell % static_cast<std::uint32_t>(side_));
    const int y = static_cast<int>(cell / static_cast<std::uint32_t>(side_));
    const int x0 = x - radius < 0 ? 0 : x - radius, x1 = x + radius >= side_ ? side_ - 1 : x + radius;
    const int y0 = y - radius < 0 ? 0 : y - radius, y1 = y + radius >= side_ ? side_ - 1 : y + radius;
    for (int v = y0; v <= y1; ++v)
      for (int u = x0; u <= x1; ++u) {
        if (u == x && v == y) continue;
        const std::int32_t a = occupant_[static_cast<std::size_t>(v) * side_ + u];
        if (a != kEmpty) f(a);
      }
  }

  std::size_t bytes() const {
    return occupant_.capacity() * sizeof(std::int32_t) + vacancies_.capacity() * sizeof(std::uint32_t) +
           position_in_vacancies_.capacity() * sizeof(std::uint32_t);
  }

 private:
  void remove_vacancy(std::uint32_t cell) {
    const std::uint32_t at = position_in_vacancies_[cell];
    const std::uint32_t last = vacancies_.back();
    vacancies_[at] = last;
    position_in_vacancies_[last] = at;
    vacancies_.pop_back();
  }

  int side_;
  std::vector<std::int32_t> occupant_;
  std::vector<std::uint32_t> vacancies_;
  std::vector<std::uint32_t> position_in_vacancies_;  // valid only for empty cells
};

}  // namespace contactsim
