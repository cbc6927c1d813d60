#include "core/progress.hpp"

#include <unistd.h>

#include <cmath>

namespace contactsim {

ProgressBar::ProgressBar(std::int64_t total, double work_per_unit, const char* rate_unit, bool enabled)
    : total_(total > 0 ? total : 1),
      work_per_unit_(work_per_unit),
      rate_unit_(rate_unit),
      enabled_(enabled),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() { finish(); }

bool ProgressBar::stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

void ProgressBar::update(std::int64_t done, const std::string& label) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total_ && now - last_draw_ < std::chrono::milliseconds(200)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double fraction = static_cast<double>(done) / static_cast<double>(total_);
  const double rate = elapsed > 0 ? static_cast<double>(done) * work_per_unit_ / elapsed : 0.0;
  const double eta = fraction > 0 ? elapsed * (1.0 - fraction) / fraction : 0.0;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(std::lround(fraction * kWidth));
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r%s [%s] %3.0f%%  %6.2f M %s/s  ETA %4.0fs ", label.c_str(), bar.c_str(), fraction * 100.0,
               rate / 1e6, rate_unit_, eta);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::finish() {
  if (drawn_) std::fputc('\n', stderr);
  drawn_ = false;
}

}  // namespace contactsim
