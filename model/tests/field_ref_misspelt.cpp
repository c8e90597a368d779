// Must NOT compile (test `model_misspelt_field_does_not_compile`): "amout" is not a field of order.paid.
#include "model/event.hpp"

constexpr fz::FieldRef kAmount = fz::field_ref("amout", {fz::EventType::kOrderPaid});
int main() {
  return kAmount.index;
}
