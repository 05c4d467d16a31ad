#pragma once
// The loaders read files, so each fuzz input is written to one file, in a temporary folder of this
// process's own (libFuzzer's -jobs/-fork run several processes), and the path is handed on. The name
// keeps the extension that picks the format (model.onnx, points.npy, ...). The folder is removed at exit.
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace relutope::fuzz {

class InputFile {
 public:
  explicit InputFile(const std::string& name) {
    const char* tmp = std::getenv("TMPDIR");
    std::string folder = std::string(tmp && *tmp ? tmp : "/tmp") + "/relutope-fuzz-XXXXXX";
    if (!mkdtemp(folder.data())) {
      std::perror("relutope fuzz: mkdtemp");
      std::abort();
    }
    folder_ = folder;
    path_ = folder + "/" + name;
  }
  ~InputFile() {
    std::remove(path_.c_str());
    rmdir(folder_.c_str());
  }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  /// Replaces the file's content with the `size` bytes at `data`; returns its path.
  const std::string& write(const std::uint8_t* data, std::size_t size) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) {
      std::perror("relutope fuzz: writing the input file");
      std::abort();
    }
    return path_;
  }

 private:
  std::string folder_, path_;
};

}  // namespace relutope::fuzz
