// Starting the child processes of the crash tests, and reading their acknowledgements.
#pragma once

#include <spawn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

extern char** environ;

namespace fz::test {

// Starts argv[0] with `argv` and its stdout on a pipe; *read_fd gets the read end. Returns the pid, or
// -1 when the process could not be started.
inline pid_t spawn_with_stdout_pipe(const std::vector<std::string>& argv, int* read_fd) {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return -1;
  }
  *read_fd = fds[0];
  return pid;
}

// Reads every 8-byte acknowledgement left on `fd` until end of file; returns the largest, at least `acked`.
inline std::uint64_t drain_acks(int fd, std::uint64_t acked) {
  std::uint64_t v = 0;
  while (::read(fd, &v, sizeof v) == static_cast<ssize_t>(sizeof v)) acked = std::max(acked, v);
  return acked;
}

}  // namespace fz::test
