#include "tools/input_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace fz {
namespace {

constexpr std::size_t kReadBytes = 64 * 1024;

}  // namespace

FdStreamBuf::FdStreamBuf(int fd, bool owned) : fd_(fd), owned_(owned), buffer_(kReadBytes) {}

FdStreamBuf::~FdStreamBuf() {
  if (owned_) ::close(fd_);
}

FdStreamBuf::int_type FdStreamBuf::underflow() {
  if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
  ssize_t n = 0;
  do {
    n = ::read(fd_, buffer_.data(), buffer_.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    throw std::ios_base::failure("read", std::error_code(errno, std::system_category()));
  }
  if (n == 0) return traits_type::eof();
  setg(buffer_.data(), buffer_.data(), buffer_.data() + n);
  return traits_type::to_int_type(*gptr());
}

Result<InputFile> open_input(const std::string& path) {
  InputFile f;
  if (path == "-") {
    f.buf = std::make_unique<FdStreamBuf>(STDIN_FILENO, false);
  } else {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return make_error(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
    f.buf = std::make_unique<FdStreamBuf>(fd, true);
  }
  f.stream = std::make_unique<std::istream>(f.buf.get());
  return f;
}

LineReader::LineReader(std::istream& in, std::size_t max_line_bytes)
    : in_(in), max_line_bytes_(max_line_bytes), buffer_(kReadBytes) {}

Result<bool> LineReader::refill() {
  std::streamsize n = 0;
  try {
    std::streambuf* buf = in_.rdbuf();
    if (buf == nullptr) return make_error("the input has no stream buffer");
    // Take only what one read gave: sgetn would read on until the buffer is full, and an error in a
    // later read would lose the bytes (and the line numbers) of the earlier ones.
    if (std::streambuf::traits_type::eq_int_type(buf->sgetc(), std::streambuf::traits_type::eof()))
      return false;
    const std::streamsize ready = std::max<std::streamsize>(buf->in_avail(), 1);
    n = buf->sgetn(buffer_.data(), std::min(ready, static_cast<std::streamsize>(buffer_.size())));
  } catch (const std::ios_base::failure& e) {
    // A read(2) error (EISDIR, EIO): e.code() names it.
    return make_error(e.code().category() == std::system_category() ? e.code().message() : e.what());
  } catch (const std::exception& e) {
    return make_error(e.what());
  }
  pos_ = 0;
  end_ = static_cast<std::size_t>(n);
  return n > 0;
}

Result<LineReader::Got> LineReader::next(std::string* line, std::uint64_t* too_long_bytes) {
  line->clear();
  std::uint64_t line_bytes = 0;  // the whole line's length so far, held or not
  bool too_long = false, blank = true, any = false;
  char last = '\0';
  for (;;) {
    if (pos_ == end_) {
      auto more = refill();
      if (!more) return more.error();
      if (!*more) {
        if (!any) return Got::kEnd;
        break;  // a last line without "\n"
      }
    }
    any = true;
    const char* start = buffer_.data() + pos_;
    const std::size_t avail = end_ - pos_;
    const void* nl = std::memchr(start, '\n', avail);
    const std::size_t piece = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - start) : avail;
    pos_ += nl ? piece + 1 : piece;
    if (piece == 0) {
      if (nl) break;
      continue;
    }
    line_bytes += piece;
    last = start[piece - 1];
    // Keep up to one byte more than the limit: it may be the "\r" of "\r\n".
    if (!too_long && line->size() + piece <= max_line_bytes_ + 1) {
      line->append(start, piece);
    } else if (!too_long) {
      blank = line->find_first_not_of(" \t\r") == std::string::npos;
      too_long = true;
      std::string().swap(*line);
    }
    if (too_long && blank)
      blank = std::string_view(start, piece).find_first_not_of(" \t\r") == std::string::npos;
    if (nl) break;
  }
  if (!too_long) {
    if (!line->empty() && line->back() == '\r') line->pop_back();
    return Got::kLine;  // a held line longer than the limit is refused by the event parser itself
  }
  *too_long_bytes = line_bytes - (last == '\r' ? 1 : 0);
  return blank ? Got::kBlank : Got::kTooLong;
}

}  // namespace fz
