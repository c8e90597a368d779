// Reading a report file and converting it to UTF-8 (SPEC section 10: BOM, else valid UTF-8, else GB18030).
#include <fcntl.h>
#include <iconv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "core/utf8.hpp"
#include "import/import.hpp"

namespace fz::imports {
namespace {

// The 1-based line holding byte offset `at` of `bytes` (UTF-16 without its BOM, or 8-bit text).
std::uint64_t line_of(std::string_view bytes, std::size_t at, Encoding e) {
  std::uint64_t line = 1;
  if (e == Encoding::kUtf16Le || e == Encoding::kUtf16Be) {
    for (std::size_t i = 0; i < at && i + 1 < bytes.size(); i += 2) {
      const bool lf = e == Encoding::kUtf16Le ? (bytes[i] == '\n' && bytes[i + 1] == 0)
                                              : (bytes[i] == 0 && bytes[i + 1] == '\n');
      if (lf) ++line;
    }
    return line;
  }
  for (std::size_t i = 0; i < at && i < bytes.size(); ++i) line += bytes[i] == '\n' ? 1 : 0;
  return line;
}

std::string hex_bytes(std::string_view bytes, std::size_t at, std::size_t n) {
  std::string out;
  for (std::size_t i = at; i < bytes.size() && i < at + n; ++i) {
    if (!out.empty()) out += ' ';
    out += fmt::format("{:02X}", static_cast<unsigned char>(bytes[i]));
  }
  return out;
}

// Converts with iconv; on an invalid or truncated sequence returns the offset of its first byte.
Result<std::string> convert(std::string_view bytes, const char* from, Encoding e) {
  iconv_t cd = ::iconv_open("UTF-8", from);
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    return make_io_error(fmt::format("iconv cannot convert from {}: {}", from, std::strerror(errno)));
  }
  // Converted a block at a time into a string that grows as needed: sizing it for the worst case up
  // front (twice the input) zero-filled, and kept, hundreds of megabytes for a large report.
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 4);
  std::array<char, 64 * 1024> block;
  char* in = const_cast<char*>(bytes.data());
  std::size_t in_left = bytes.size();
  std::optional<std::size_t> bad;
  while (in_left > 0) {
    char* dst = block.data();
    std::size_t out_left = block.size();
    const std::size_t done = ::iconv(cd, &in, &in_left, &dst, &out_left);
    out.append(block.data(), static_cast<std::size_t>(dst - block.data()));
    if (done != static_cast<std::size_t>(-1)) break;
    if (errno == E2BIG) continue;                       // the block is full: convert the rest
    bad = static_cast<std::size_t>(in - bytes.data());  // EILSEQ or EINVAL (truncated at the end)
    break;
  }
  ::iconv_close(cd);
  if (bad) {
    return make_error(fmt::format("line {}: bytes {} are not valid {}", line_of(bytes, *bad, e),
                                  hex_bytes(bytes, *bad, 4), encoding_name(e)));
  }
  return out;
}

}  // namespace

std::string_view encoding_name(Encoding e) {
  switch (e) {
    case Encoding::kUtf8:
      return "UTF-8";
    case Encoding::kUtf8Bom:
      return "UTF-8 (BOM)";
    case Encoding::kUtf16Le:
      return "UTF-16LE";
    case Encoding::kUtf16Be:
      return "UTF-16BE";
    case Encoding::kGb18030:
      return "GB18030";
  }
  return "?";
}

Result<std::string> read_report_file(const std::string& path, std::size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(fmt::format("cannot read {}: not a regular file", path));
  }
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return make_error(
        fmt::format("{}: the file has {} bytes; a report has at most {}", path, st.st_size, max_bytes));
  }
  std::string data;
  data.resize(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (got < data.size()) {
    const ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return make_io_error(fmt::format("cannot read {}: {}", path, std::strerror(err)));
    }
    if (n == 0) break;  // the file shrank while read: take what is there
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  data.resize(got);
  return data;
}

Result<std::string> to_utf8(std::string_view bytes, Encoding* detected) {
  auto set = [&](Encoding e) {
    if (detected != nullptr) *detected = e;
  };
  if (bytes.starts_with("\xEF\xBB\xBF")) {
    set(Encoding::kUtf8Bom);
    const std::string_view rest = bytes.substr(3);
    if (const std::size_t bad = first_invalid_utf8(rest); bad != std::string_view::npos) {
      return make_error(
          fmt::format("line {}: bytes {} are not valid UTF-8 (the file starts with a UTF-8 BOM)",
                      line_of(rest, bad, Encoding::kUtf8), hex_bytes(rest, bad, 4)));
    }
    return std::string(rest);
  }
  if (bytes.starts_with("\xFF\xFE")) {
    set(Encoding::kUtf16Le);
    return convert(bytes.substr(2), "UTF-16LE", Encoding::kUtf16Le);
  }
  if (bytes.starts_with("\xFE\xFF")) {
    set(Encoding::kUtf16Be);
    return convert(bytes.substr(2), "UTF-16BE", Encoding::kUtf16Be);
  }
  if (first_invalid_utf8(bytes) == std::string_view::npos) {
    set(Encoding::kUtf8);
    return std::string(bytes);
  }
  set(Encoding::kGb18030);
  auto text = convert(bytes, "GB18030", Encoding::kGb18030);
  if (!text) {
    return make_error(text.message() +
                      " (the file is neither UTF-8 nor GB18030, and has no UTF-16 byte order mark)");
  }
  return text;
}

}  // namespace fz::imports
