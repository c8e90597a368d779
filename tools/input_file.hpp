// Reading `fenzhang append` inputs: a file or standard input as a std::istream over read(2), and a
// line reader whose memory stays bounded whatever the input (SPEC section 7: an event line has at
// most 64 KiB, and a longer one is refused without holding more than that).
#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <streambuf>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace fz {

// A read-only stream buffer over a file descriptor. A failing read(2) throws std::ios_base::failure
// carrying errno (as libstdc++'s filebuf does), so a reader can tell an I/O error from the end of the
// input: std::cin (stdio) reports both as end of file.
class FdStreamBuf : public std::streambuf {
 public:
  explicit FdStreamBuf(int fd, bool owned);
  ~FdStreamBuf() override;
  FdStreamBuf(const FdStreamBuf&) = delete;
  FdStreamBuf& operator=(const FdStreamBuf&) = delete;

 protected:
  int_type underflow() override;

 private:
  int fd_;
  bool owned_;
  std::vector<char> buffer_;
};

// An opened input: `path` is a file, or "-" for standard input.
struct InputFile {
  std::unique_ptr<FdStreamBuf> buf;
  std::unique_ptr<std::istream> stream;
};
// "cannot read PATH: No such file or directory" when the file cannot be opened.
[[nodiscard]] Result<InputFile> open_input(const std::string& path);

// Splits a stream into lines ("\n", one trailing "\r" dropped) holding at most
// max_line_bytes + 1 bytes of a line: a longer line is counted to its end and reported by length only.
class LineReader {
 public:
  LineReader(std::istream& in, std::size_t max_line_bytes);

  enum class Got { kLine, kTooLong, kBlank, kEnd };
  // kLine: *line is the line. kTooLong: *too_long_bytes is its length (without the "\r\n"); the bytes
  // are gone. kBlank: a too long line of spaces and tabs only (blank lines carry no event). kEnd: the
  // input ended. An error when the stream could not be read: nothing after it is taken for input.
  [[nodiscard]] Result<Got> next(std::string* line, std::uint64_t* too_long_bytes);

 private:
  [[nodiscard]] Result<bool> refill();  // false at the end of the input

  std::istream& in_;
  std::size_t max_line_bytes_;
  std::vector<char> buffer_;
  std::size_t pos_ = 0, end_ = 0;
};

}  // namespace fz
