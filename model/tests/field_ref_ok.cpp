// Compiled by the test `model_field_ref_compiles` (see model/CMakeLists.txt): a field named through
// field_ref on the types that hold it compiles. The companion files must not.
#include "model/event.hpp"

constexpr fz::FieldRef kAmount = fz::field_ref("amount", {fz::EventType::kOrderPaid});
static_assert(kAmount.index == 4 && kAmount.holds(fz::EventType::kOrderPaid));
int main() {
  return 0;
}
