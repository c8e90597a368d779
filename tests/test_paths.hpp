// Where the sources and the fenzhang binary of this build are, for the tests (tests/test_util.hpp;
// $FZ_SOURCE_DIR and $FZ_BIN override them there). Defined in a file the build generates
// (fz_test_paths.cpp, part of fz_test_main), not passed as -D macros with absolute paths, so that every
// test source compiles to the same object in any clone and ccache reuses it (CI builds a fresh clone).
#pragma once

extern const char kFzSourceDirDefault[];
extern const char kFzBinDefault[];

#define FZ_SOURCE_DIR_DEFAULT kFzSourceDirDefault
#define FZ_BIN_DEFAULT kFzBinDefault
