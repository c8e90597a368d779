// Helpers shared by the tests: temporary directories and running the fenzhang binary.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "tests/test_paths.hpp"

namespace fz::test {

// A fresh directory under the system temp dir, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("fenzhang-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string str() const { return path_.string(); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr, interleaved as written
};

// Runs a shell command line (the binary is $FZ_BIN) and captures its output.
inline RunResult run(const std::string& command) {
  RunResult r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::string bin() {
  const char* b = std::getenv("FZ_BIN");
#ifdef FZ_BIN_DEFAULT
  return b != nullptr ? b : FZ_BIN_DEFAULT;
#else
  return b != nullptr ? b : "fenzhang";
#endif
}

inline std::string source_dir() {
  const char* s = std::getenv("FZ_SOURCE_DIR");
#ifdef FZ_SOURCE_DIR_DEFAULT
  return s != nullptr ? s : FZ_SOURCE_DIR_DEFAULT;
#else
  return s != nullptr ? s : ".";
#endif
}

// A whole file's bytes ("" when it cannot be read), and a file written with exactly these bytes.
inline std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

}  // namespace fz::test
