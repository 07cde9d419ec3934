// Calls fn with a compile-time row count: the register-tile kernels are templates on their tile
// height (so accumulators stay in registers) but are called with the rows left at the edge.
#pragma once
#include <type_traits>

namespace sie {

// rows in [1, MaxRows]: fn(std::integral_constant<int, rows>{}).
template <int MaxRows, typename Fn>
void dispatch_tile_rows(int rows, Fn&& fn) {
  if constexpr (MaxRows > 1) {
    if (rows < MaxRows) return dispatch_tile_rows<MaxRows - 1>(rows, fn);
  }
  fn(std::integral_constant<int, MaxRows>{});
}

}  // namespace sie
