// Must NOT compile (test `model_field_at_two_positions_does_not_compile`): "streamer" is field 2 of
// order.paid but field 0 of streamer.signed, so one ref cannot name both.
#include "model/event.hpp"

constexpr fz::FieldRef kStreamer =
    fz::field_ref("streamer", {fz::EventType::kOrderPaid, fz::EventType::kStreamerSigned});
int main() {
  return kStreamer.index;
}
