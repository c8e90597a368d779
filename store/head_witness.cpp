#include "store/head_witness.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "store/codec.hpp"

namespace fz {
namespace {

using Slot = std::array<std::uint8_t, format::kWitnessSlotBytes>;
constexpr std::size_t kCheckOffset = format::kWitnessSlotBytes - 8;

void put_u64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint64_t get_u64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::array<std::uint8_t, 32> sha256(const std::uint8_t* data, std::size_t n) {
  std::array<std::uint8_t, 32> out{};
  unsigned int len = 0;
  // OpenSSL's SHA-256 does not fail on valid inputs; if it ever did, a ledger must not go on.
  if (EVP_Digest(data, n, out.data(), &len, EVP_sha256(), nullptr) != 1 || len != out.size()) std::abort();
  return out;
}

Slot encode_slot(std::uint64_t generation, const WitnessedHead& head) {
  Slot s{};
  std::memcpy(s.data(), format::kWitnessMagic.data(), 8);
  put_u64(s.data() + 8, generation);
  put_u64(s.data() + 16, head.seq);
  std::memcpy(s.data() + 24, head.hash.data(), head.hash.size());
  const auto check = sha256(s.data(), kCheckOffset);
  std::memcpy(s.data() + kCheckOffset, check.data(), 8);
  return s;
}

// The slot's generation and head, if the slot is whole.
std::optional<std::pair<std::uint64_t, WitnessedHead>> decode_slot(const std::uint8_t* s) {
  if (std::memcmp(s, format::kWitnessMagic.data(), 8) != 0) return std::nullopt;
  const auto check = sha256(s, kCheckOffset);
  if (std::memcmp(s + kCheckOffset, check.data(), 8) != 0) return std::nullopt;
  WitnessedHead head;
  head.seq = get_u64(s + 16);
  std::memcpy(head.hash.data(), s + 24, head.hash.size());
  return std::make_pair(get_u64(s + 8), head);
}

// Reads both slots; the newest whole one, or nullopt when neither is whole (or the file is empty).
Result<std::optional<std::pair<std::uint64_t, WitnessedHead>>> read_slots(int fd, const std::string& path) {
  std::array<std::uint8_t, 2 * format::kWitnessSlotBytes> buf{};
  std::size_t got = 0;
  while (got < buf.size()) {
    const ssize_t n = ::pread(fd, buf.data() + got, buf.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_io_error(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  std::optional<std::pair<std::uint64_t, WitnessedHead>> best;
  for (std::size_t off = 0; off + format::kWitnessSlotBytes <= got; off += format::kWitnessSlotBytes) {
    auto slot = decode_slot(buf.data() + off);
    if (slot && (!best || slot->first > best->first)) best = slot;
  }
  return best;
}

}  // namespace

Result<std::optional<WitnessedHead>> HeadWitness::read(const std::string& dir) {
  const std::string path = path_in(dir);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return std::optional<WitnessedHead>{};
  if (fd < 0) return make_io_error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  auto slots = read_slots(fd, path);
  ::close(fd);
  if (!slots) return slots.error();
  if (!slots->has_value()) {
    return make_corruption_error(
        fmt::format("{} holds no valid head witness (both slots damaged); run 'fenzhang verify' and restore the "
                    "ledger from a backup if its log is incomplete",
                    path));
  }
  return std::optional<WitnessedHead>{(*slots)->second};
}

Result<HeadWitness> HeadWitness::open_for_write(const std::string& dir) {
  const std::string path = path_in(dir);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return make_io_error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  auto slots = read_slots(fd, path);
  if (!slots) {
    ::close(fd);
    return slots.error();
  }
  return HeadWitness(fd, path, slots->has_value() ? (*slots)->first : 0);
}

HeadWitness::HeadWitness(HeadWitness&& other) noexcept
    : fd_(other.fd_), path_(std::move(other.path_)), generation_(other.generation_) {
  other.fd_ = -1;
}

HeadWitness& HeadWitness::operator=(HeadWitness&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    generation_ = other.generation_;
    other.fd_ = -1;
  }
  return *this;
}

HeadWitness::~HeadWitness() {
  if (fd_ >= 0) ::close(fd_);
}

Status HeadWitness::write(const WitnessedHead& head) {
  const std::uint64_t generation = generation_ + 1;
  const Slot slot = encode_slot(generation, head);
  const off_t offset = static_cast<off_t>((generation % 2) * format::kWitnessSlotBytes);
  std::size_t done = 0;
  while (done < slot.size()) {
    const ssize_t n = ::pwrite(fd_, slot.data() + done, slot.size() - done, offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_io_error(fmt::format("cannot write {}: {}", path_, std::strerror(errno)));
    done += static_cast<std::size_t>(n);
  }
  if (::fdatasync(fd_) != 0) return make_io_error(fmt::format("cannot sync {}: {}", path_, std::strerror(errno)));
  generation_ = generation;
  return Status::Ok();
}

}  // namespace fz
