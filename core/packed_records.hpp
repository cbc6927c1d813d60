#pragma once
// Several per-item arrays stored interleaved: one fixed-size, cache-line-aligned record per item
// holds every array's values for that item. Code that touches all of them for items scattered
// over a large population (the partners of an encounter) then loads one cache line per item
// instead of one per array; the arrays themselves are still read and written by index, like a
// std::vector, through PackedColumn views.
//
// The record owner (a PackedRecords) lays out its columns itself: each column gets an offset and
// a width (values per item, contiguous inside the record), and the stride is the records' size
// rounded up to whole cache lines. Columns point at their owner, not at its bytes, so resizing
// the records never leaves a column dangling; an owner that is copied or moved must bind fresh
// columns to itself (columns are not copyable, so a copy can never point into another object).
#include <boost/align/aligned_allocator.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace contactsim {

inline constexpr std::size_t kCacheLine = 64;

// The bytes of the records: `items` records of `stride` bytes, the first at a cache-line boundary.
class PackedRecords {
 public:
  PackedRecords() = default;
  PackedRecords(const PackedRecords&) = default;
  PackedRecords& operator=(const PackedRecords&) = default;
  // A moved-from owner holds no records (its columns then have size 0).
  PackedRecords(PackedRecords&& other) noexcept
      : bytes_(std::move(other.bytes_)), items_(std::exchange(other.items_, 0)), stride_(other.stride_) {}
  PackedRecords& operator=(PackedRecords&& other) noexcept {
    bytes_ = std::move(other.bytes_);
    items_ = std::exchange(other.items_, 0);
    stride_ = other.stride_;
    return *this;
  }

  std::size_t items() const { return items_; }
  std::size_t stride() const { return stride_; }
  std::byte* data() { return bytes_.data(); }
  const std::byte* data() const { return bytes_.data(); }
  // Reallocates for `items` records of `record_bytes` each (rounded up to whole cache lines), all
  // bytes zero. Earlier contents are lost: lay out first, then fill the columns.
  void reshape(std::size_t items, std::size_t record_bytes) {
    items_ = items;
    stride_ = std::max<std::size_t>(kCacheLine, (record_bytes + kCacheLine - 1) / kCacheLine * kCacheLine);
    bytes_.assign(items_ * stride_, std::byte{0});
  }
  std::size_t capacity_bytes() const { return bytes_.capacity(); }

 private:
  std::vector<std::byte, boost::alignment::aligned_allocator<std::byte, kCacheLine>> bytes_;
  std::size_t items_ = 0;
  std::size_t stride_ = kCacheLine;
};

// A column's first values per item, as a base and a stride: what a hot loop keeps in registers.
template <class T>
struct Strided {
  std::conditional_t<std::is_const_v<T>, const std::byte*, std::byte*> base;
  std::size_t stride;
  T& operator[](std::size_t item) const { return *reinterpret_cast<T*>(base + item * stride); }
};

// One array of the records: `width` values of T per item, indexed as the flat std::vector of
// item × width values it replaces.
template <class T>
class PackedColumn {
 public:
  using value_type = T;

  explicit PackedColumn(PackedRecords& owner) : owner_(&owner) {}
  PackedColumn(const PackedColumn&) = delete;
  PackedColumn& operator=(const PackedColumn&) = delete;

  // Where the column sits in each record (called by the owner's layout).
  void place(std::size_t offset, std::size_t width) { offset_ = offset, width_ = width; }
  std::size_t offset() const { return offset_; }
  std::size_t width() const { return width_; }
  std::size_t stride() const { return owner_->stride(); }

  std::size_t size() const { return owner_->items() * width_; }
  bool empty() const { return size() == 0; }

  // An item's `width` values, contiguous.
  T* row(std::size_t item) { return reinterpret_cast<T*>(owner_->data() + item * owner_->stride() + offset_); }
  const T* row(std::size_t item) const {
    return reinterpret_cast<const T*>(owner_->data() + item * owner_->stride() + offset_);
  }
  Strided<T> strided() { return {owner_->data() + offset_, owner_->stride()}; }
  Strided<const T> strided() const { return {owner_->data() + offset_, owner_->stride()}; }
  // Value k of the flat layout: item k / width, position k % width.
  T& operator[](std::size_t k) { return width_ == 1 ? *row(k) : row(k / width_)[k % width_]; }
  const T& operator[](std::size_t k) const { return width_ == 1 ? *row(k) : row(k / width_)[k % width_]; }

  // Like std::vector::assign, for the records' current shape: `count` must be items × width.
  void assign(std::size_t count, const T& value) {
    require_size(count);
    for (std::size_t k = 0; k < count; ++k) (*this)[k] = value;
  }
  void assign(std::span<const T> values) {
    require_size(values.size());
    for (std::size_t k = 0; k < values.size(); ++k) (*this)[k] = values[k];
  }
  PackedColumn& operator=(std::initializer_list<T> values) {
    assign(std::span<const T>(values.begin(), values.size()));
    return *this;
  }
  // The values in flat order, as the std::vector they replace.
  std::vector<T> to_vector() const { return std::vector<T>(begin(), end()); }
  // A copy of the whole column: explicit, so no hot loop pays for one by accident.
  explicit operator std::vector<T>() const { return to_vector(); }

  friend bool operator==(const PackedColumn& a, const PackedColumn& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
  }
  friend bool operator==(const PackedColumn& a, const std::vector<T>& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
  }

  // Random access over the flat order.
  template <class Column, class Ref>
  class basic_iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = std::remove_reference_t<Ref>*;
    using reference = Ref;

    basic_iterator() = default;
    basic_iterator(Column* column, std::size_t k) : column_(column), k_(k) {}
    Ref operator*() const { return (*column_)[k_]; }
    Ref operator[](difference_type d) const { return (*column_)[k_ + static_cast<std::size_t>(d)]; }
    basic_iterator& operator++() { return ++k_, *this; }
    basic_iterator operator++(int) { auto old = *this; ++k_; return old; }
    basic_iterator& operator--() { return --k_, *this; }
    basic_iterator operator--(int) { auto old = *this; --k_; return old; }
    basic_iterator& operator+=(difference_type d) { return k_ += static_cast<std::size_t>(d), *this; }
    basic_iterator& operator-=(difference_type d) { return k_ -= static_cast<std::size_t>(d), *this; }
    friend basic_iterator operator+(basic_iterator it, difference_type d) { return it += d; }
    friend basic_iterator operator+(difference_type d, basic_iterator it) { return it += d; }
    friend basic_iterator operator-(basic_iterator it, difference_type d) { return it -= d; }
    friend difference_type operator-(const basic_iterator& a, const basic_iterator& b) {
      return static_cast<difference_type>(a.k_) - static_cast<difference_type>(b.k_);
    }
    friend bool operator==(const basic_iterator& a, const basic_iterator& b) { return a.k_ == b.k_; }
    friend auto operator<=>(const basic_iterator& a, const basic_iterator& b) { return a.k_ <=> b.k_; }

   private:
    Column* column_ = nullptr;
    std::size_t k_ = 0;
  };
  using iterator = basic_iterator<PackedColumn, T&>;
  using const_iterator = basic_iterator<const PackedColumn, const T&>;
  iterator begin() { return {this, 0}; }
  iterator end() { return {this, size()}; }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size()}; }

 private:
  void require_size(std::size_t count) const {
    if (count != size())
      throw std::logic_error("PackedColumn: " + std::to_string(count) + " values for records of " +
                             std::to_string(owner_->items()) + " items × " + std::to_string(width_) +
                             " (reshape the records first)");
  }

  PackedRecords* owner_;
  std::size_t offset_ = 0;
  std::size_t width_ = 1;
};

// The values of a resident array in flat order, whichever storage holds them: a std::vector as
// itself, a packed column gathered (for the world structure hash, which needs the bytes
// contiguous; checkpoints write packed columns through StateWriter).
template <class T>
const std::vector<T>& contiguous(const std::vector<T>& values) {
  return values;
}
template <class T>
std::vector<T> contiguous(const PackedColumn<T>& values) {
  return values.to_vector();
}

}  // namespace contactsim
